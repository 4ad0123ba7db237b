# The trained model `gdf_msrs_fixed_16e`: gdf_msrs_fixed.py for 16 epochs
# instead of 4 (512 F steps), about the wall time of refusion_msrs_fixed's
# 4 epochs on a 2-core CPU.
# Usage: python tools/train.py configs/zoo/gdf_msrs_fixed_16e.py
_base_ = './gdf_msrs_fixed.py'

train_cfg = dict(max_epochs=16, val_interval=16)
default_hooks = dict(checkpoint=dict(interval=16))
