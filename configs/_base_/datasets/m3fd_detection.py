# M3FD (Liu et al., CVPR 2022) in its official layout: Ir/, Vis/, Annotation/.
# M3FD has no official split: the split files (one id per line) are made by
# tools/dataset_converters/make_m3fd_split.py (8:2, by blocks of
# consecutive ids).
dataset_type = 'M3FDDataset'
data_root = 'data/M3FD/'
task_size = (256, 192)  # (w, h): the paper's M3FD task resolution 192x256
fusion_crop = (256, 256)  # the fusion loss's crops, at native resolution

train_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='RandomFusionCrop', crop_size=fusion_crop),
    dict(type='PairedTransform', transforms=[
        dict(type='mmdet.Resize', scale=task_size, keep_ratio=True),
        dict(type='mmdet.RandomFlip', prob=0.5),
        dict(type='mmdet.Pad', size=task_size,
             pad_val=dict(img=0)),
    ]),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='PairedTransform', transforms=[
        dict(type='mmdet.Resize', scale=task_size, keep_ratio=True),
        dict(type='mmdet.Pad', size=task_size, pad_val=dict(img=0)),
    ]),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    # `instances` lets CocoMetric evaluate without a COCO json file.
    dict(type='PackFusionDetInputs',
         meta_keys=('img_id', 'img_path', 'ir_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'instances')),
]

train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # No mmdet.AspectRatioBatchSampler: it keeps batches in its own state
    # between iterators, and an iterator left unfinished (each meta phase
    # leaves one) makes the next pass repeat and drop samples.
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/train.txt',
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/test.txt',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# mAP@0.5 as the paper reports it, and COCO-style bbox mAP.
val_evaluator = [
    dict(type='mmdet.VOCMetric', metric='mAP', iou_thrs=[0.5],
         eval_mode='area'),
    dict(type='mmdet.CocoMetric', metric='bbox'),
]
# Testing also scores the fused images (EN, SD, ..., SSIM at the task size).
test_evaluator = val_evaluator + [dict(type='FusionMetric')]
