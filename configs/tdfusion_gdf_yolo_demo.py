# The demo (tdfusion_yolo_demo.py) with the light fusion network
# GradientDenseFusion in place of ReFusion.
_base_ = './tdfusion_yolo_demo.py'
model = dict(fusion_backbone=dict(_delete_=True, type='GradientDenseFusion'))
