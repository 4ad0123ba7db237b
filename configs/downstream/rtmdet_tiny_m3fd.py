# The downstream protocol on M3FD with mmdet's stock RTMDet-tiny (see
# yolox_tiny_m3fd.py for TASK_DATA_ROOT).
_base_ = [
    'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py',
    './_base_/tdfusion_imports.py',
]
# Checkpoints that torch >= 2.6 loads weights-only (mmdet's and mmseg's
# tools/test.py, resume, and TDFusion's model.task_checkpoint).
default_hooks = dict(
    safe_checkpoint=dict(type='tdfusion_mm.SafeCheckpointHook'))

data_root = '{{$TASK_DATA_ROOT:data/M3FD/}}'
dataset_type = 'tdfusion_mm.M3FDDataset'
# The fields of both splits: the split files differ.
both_splits = dict(
    type=dataset_type, data_root=data_root,
    data_prefix=dict(_delete_=True, img_path='Vis', ir_path='Ir',
                     xml_path='Annotation'))

model = dict(bbox_head=dict(num_classes=6))
train_dataloader = dict(
    dataset=dict(both_splits, ann_file='splits/train.txt'))
val_dataloader = dict(
    dataset=dict(both_splits, ann_file='splits/test.txt'))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True, type='VOCMetric', metric='mAP', iou_thrs=[0.5],
    eval_mode='area')
test_evaluator = val_evaluator
