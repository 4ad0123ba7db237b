# What the paired segmentation datasets (msrs_segmentation.py,
# fmb_segmentation.py) share: the pipelines, the dataloaders and the metrics.
# Each dataset file sets the task size in the pipelines (None here: the
# `scale` of mmseg.Resize, by tdfusion_mm.datasets.task_size.at_task_size)
# and adds its dataset (type, data_root, folders).
_base_ = './paired_dataloaders.py'

train_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='LoadSegAnnotations'),
    # The fusion loss's crops, at native resolution.
    dict(type='RandomFusionCrop', crop_size=(256, 256)),
    # Geometric transforms: the same on the infrared image, the visible image
    # and the label map. The paper resizes the whole pair to the task size.
    dict(type='PairedTransform', transforms=[
        dict(type='mmseg.Resize', scale=None, keep_ratio=False),
        dict(type='mmseg.RandomFlip', prob=0.5),
    ]),
    # Photometric transforms (e.g. mmseg.PhotoMetricDistortion) go here,
    # outside PairedTransform: they change the visible image only.
    dict(type='PackFusionSegInputs'),
]
test_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='PairedTransform', transforms=[
        dict(type='mmseg.Resize', scale=None, keep_ratio=False),
    ]),
    # Loaded after the resize: the mIoU is computed at the original size.
    dict(type='LoadSegAnnotations'),
    dict(type='PackFusionSegInputs'),
]

val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
# Testing also scores the fused images (EN, SD, ..., SSIM at the task size).
test_evaluator = [val_evaluator, dict(type='FusionMetric')]
