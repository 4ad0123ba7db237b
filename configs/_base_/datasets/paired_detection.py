# What the paired detection datasets (m3fd_detection.py, llvip_detection.py)
# share: the dataloaders and the metrics.
_base_ = './paired_dataloaders.py'

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
