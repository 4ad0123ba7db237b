# Baseline: YOLOX-tiny on the visible image alone (no fusion), with the
# data, task size and schedule of TDFusion on LLVIP. F passes the visible
# image through and has no parameters: T trains alone, nothing is swapped
# or meta-learned.
_base_ = ['../tdfusion_yolo_llvip.py']

model = dict(
    fusion_backbone=dict(_delete_=True, type='PassThroughFusion',
                         source='visible'),
    swap_modalities=False)
train_cfg = dict(meta_steps=0)
