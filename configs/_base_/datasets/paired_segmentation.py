# What the paired segmentation datasets (msrs_segmentation.py,
# fmb_segmentation.py) share: the dataloaders and the metrics.
_base_ = './paired_dataloaders.py'

val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
# Testing also scores the fused images (EN, SD, ..., SSIM at the task size).
test_evaluator = [val_evaluator, dict(type='FusionMetric')]
