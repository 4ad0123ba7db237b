# TDFusion on LLVIP with YOLOX (tdfusion_yolo_llvip.py) and the light
# fusion network GradientDenseFusion in place of ReFusion.
_base_ = './tdfusion_yolo_llvip.py'
model = dict(fusion_backbone=dict(_delete_=True, type='GradientDenseFusion'))
