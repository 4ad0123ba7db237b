# The trained model `gdf_msrs_fixed_16e`: gdf_msrs_fixed.py for 16 epochs
# instead of 4 (512 F steps); on a 2-core CPU its training took about as
# long as refusion_msrs_fixed's 4 epochs.
# Usage: python tools/train.py configs/zoo/gdf_msrs_fixed_16e.py
_base_ = './gdf_msrs_fixed.py'

train_cfg = dict(max_epochs=16, val_interval=16)
default_hooks = dict(checkpoint=dict(interval=16))
