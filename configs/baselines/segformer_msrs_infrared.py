# Baseline: SegFormer-B0 on the infrared image alone (grey, 3 channels), with
# the data, task size and schedule of TDFusion on MSRS. F passes the infrared
# image through and has no parameters: T trains alone, nothing is swapped
# or meta-learned.
_base_ = ['../tdfusion_segformer_msrs.py']

model = dict(
    fusion_backbone=dict(_delete_=True, type='PassThroughFusion',
                         source='infrared'),
    swap_modalities=False)
train_cfg = dict(meta_steps=0)
