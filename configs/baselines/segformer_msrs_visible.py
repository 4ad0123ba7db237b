# Baseline: SegFormer-B0 on the visible image alone (no fusion), with the
# data, task size and schedule of TDFusion on MSRS. F is not trained.
_base_ = ['../tdfusion_segformer_msrs.py']

model = dict(task_input='visible')
train_cfg = dict(meta_steps=0)
