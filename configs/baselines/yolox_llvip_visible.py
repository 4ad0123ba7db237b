# Baseline: YOLOX-tiny on the visible image alone (no fusion), with the
# data, task size and schedule of TDFusion on LLVIP. F is not trained.
_base_ = ['../tdfusion_yolo_llvip.py']

model = dict(task_input='visible')
train_cfg = dict(meta_steps=0)
