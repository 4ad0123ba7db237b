# What every downstream config adds to its stock mmdet or mmseg config, next
# to which it is inherited: our datasets and hooks, imported so that the
# stock tools find them, and the papers' detection metric.
custom_imports = dict(
    imports=['tdfusion_mm.datasets', 'tdfusion_mm.engine.hooks'],
    allow_failed_imports=False)
# AP@0.5, as the papers report M3FD and LLVIP (no COCO json needed); the
# detection configs set it as `val_evaluator`.
voc_ap50_metric = dict(
    _delete_=True, type='VOCMetric', metric='mAP', iou_thrs=[0.5],
    eval_mode='area')
