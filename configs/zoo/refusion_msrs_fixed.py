# The trained model `refusion_msrs_fixed` of the model index (metafile.yml):
# ReFusion on MSRS with the fixed fusion loss (w_ir = w_vis = 0.5), T
# SegFormer-B0, at a budget that fits a 2-core CPU (a shorter schedule than
# the paper's 40 epochs, with a constant learning rate of 1e-3).
# Usage: python tools/train.py configs/zoo/refusion_msrs_fixed.py
_base_ = '../tdfusion_segformer_msrs.py'

model = dict(loss_generator=dict(_delete_=True, type='FixedLossWeights',
                                 w_ir=0.5))
train_dataloader = dict(batch_size=4)
train_cfg = dict(max_epochs=4, val_interval=4, meta_steps=0)
_adam = dict(type='OptimWrapper',
             optimizer=dict(type='Adam', lr=1e-3, weight_decay=0))
optim_wrapper = dict(fusion_backbone=_adam, task_model=_adam)
param_scheduler = None
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=1))
randomness = dict(seed=0)
