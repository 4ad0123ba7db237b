# The trained model `gdf_msrs_learned`: as refusion_msrs_learned.py with the
# light fusion network GradientDenseFusion.
# Usage: python tools/train.py configs/zoo/gdf_msrs_learned.py
_base_ = './refusion_msrs_learned.py'

model = dict(fusion_backbone=dict(_delete_=True, type='GradientDenseFusion'))
