# Baseline: F trained on a fixed fusion loss (w_ir = w_vis = 0.5 everywhere)
# instead of G's learned weights; YOLOX-tiny on the fused images, as
# TDFusion on LLVIP otherwise. Nothing is meta-learned.
_base_ = ['../tdfusion_yolo_llvip.py']

model = dict(loss_generator=dict(_delete_=True, type='FixedLossWeights',
                                 w_ir=0.5))
train_cfg = dict(meta_steps=0)
