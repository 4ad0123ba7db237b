# The downstream protocol on the demo data (tools/misc/make_demo_data.py):
# mmdet's YOLOX recipe made small enough for a CPU in minutes (the narrow
# YOLOX of configs/tdfusion_yolo_demo.py, 128x128 mosaics, 24 epochs).
# TASK_DATA_ROOT (default data/demo/m3fd/) is a folder in M3FD's layout.
_base_ = './yolox_tiny_m3fd.py'

data_root = '{{$TASK_DATA_ROOT:data/demo/m3fd/}}'
classes = ('People', 'Car')  # the demo scenes' classes
img_scale = (128, 128)  # (w, h)
max_epochs = 24
num_last_epochs = 4

model = dict(
    data_preprocessor=dict(batch_augments=None),
    backbone=dict(deepen_factor=0.33, widen_factor=0.125),
    neck=dict(in_channels=[32, 64, 128], out_channels=32),
    bbox_head=dict(in_channels=32, feat_channels=32,
                   num_classes=len(classes)))

train_pipeline = [
    dict(type='Mosaic', img_scale=img_scale, pad_val=114.0),
    dict(type='RandomAffine', scaling_ratio_range=(0.5, 1.5),
         border=(-img_scale[0] // 2, -img_scale[1] // 2)),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', pad_to_square=True,
         pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', pad_to_square=True,
         pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(dataset=dict(data_root=data_root,
                              metainfo=dict(classes=classes)),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=dict(classes=classes),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
base_lr = 0.01
param_scheduler = [
    dict(type='mmdet.QuadraticWarmupLR', by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.05, begin=2,
         T_max=max_epochs - num_last_epochs, end=max_epochs - num_last_epochs,
         by_epoch=True, convert_to_iter_based=True),
    dict(type='ConstantLR', by_epoch=True, factor=1,
         begin=max_epochs - num_last_epochs, end=max_epochs),
]
custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs=num_last_epochs,
         priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001,
         update_buffers=True, priority=49),
]
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(enable=False)
