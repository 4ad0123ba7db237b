# The trained model `gdf_msrs_fixed`: as refusion_msrs_fixed.py with the
# light fusion network GradientDenseFusion.
# Usage: python tools/train.py configs/zoo/gdf_msrs_fixed.py
_base_ = './refusion_msrs_fixed.py'

model = dict(fusion_backbone=dict(_delete_=True, type='GradientDenseFusion'))
