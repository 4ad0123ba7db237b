# TDFusion on MSRS with SegFormer-B0 (tdfusion_segformer_msrs.py) and the
# light fusion network GradientDenseFusion in place of ReFusion.
_base_ = './tdfusion_segformer_msrs.py'
model = dict(fusion_backbone=dict(_delete_=True, type='GradientDenseFusion'))
