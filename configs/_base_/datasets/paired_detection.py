# What the paired detection datasets (m3fd_detection.py, llvip_detection.py)
# share: the pipelines, the dataloaders and the metrics. Each dataset file
# sets the task size in the pipelines (None here: the `scale` of mmdet.Resize
# and the `size` of mmdet.Pad, by tdfusion_mm.datasets.task_size.at_task_size)
# and adds its dataset (type, data_root, folders).
_base_ = './paired_dataloaders.py'

train_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='LoadDetAnnotations', with_bbox=True),
    # The fusion loss's crops, at native resolution.
    dict(type='RandomFusionCrop', crop_size=(256, 256)),
    dict(type='PairedTransform', transforms=[
        dict(type='mmdet.Resize', scale=None, keep_ratio=True),
        dict(type='mmdet.RandomFlip', prob=0.5),
        dict(type='mmdet.Pad', size=None, pad_val=dict(img=0)),
    ]),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='PairedTransform', transforms=[
        dict(type='mmdet.Resize', scale=None, keep_ratio=True),
        dict(type='mmdet.Pad', size=None, pad_val=dict(img=0)),
    ]),
    dict(type='LoadDetAnnotations', with_bbox=True),
    # `instances` lets CocoMetric evaluate without a COCO json file.
    dict(type='PackFusionDetInputs',
         meta_keys=('img_id', 'img_path', 'ir_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'instances')),
]

# No mmdet.AspectRatioBatchSampler: it keeps batches in its own state
# between iterators, and an iterator left unfinished (each meta phase
# leaves one) makes the next pass repeat and drop samples.
train_dataloader = dict(
    dataset=dict(filter_cfg=dict(filter_empty_gt=True, min_size=32)))

# AP@0.5 as the paper reports it, and COCO-style bbox mAP.
val_evaluator = [
    dict(type='mmdet.VOCMetric', metric='mAP', iou_thrs=[0.5],
         eval_mode='area'),
    dict(type='mmdet.CocoMetric', metric='bbox'),
]
# Testing also scores the fused images (EN, SD, ..., SSIM at the task size).
test_evaluator = val_evaluator + [dict(type='FusionMetric')]
