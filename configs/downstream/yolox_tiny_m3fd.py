# The downstream protocol: mmdet's stock YOLOX-tiny, trained and tested on
# the images of one method (fused, visible or infrared) in M3FD's layout.
# Stock mmdet tools run it (our datasets are imported by custom_imports):
#   TASK_DATA_ROOT=work_dirs/fused/m3fd python mmdet/tools/train.py \
#       configs/downstream/yolox_tiny_m3fd.py
# TASK_DATA_ROOT (default data/M3FD/) is a folder in M3FD's layout whose
# Vis/ holds the images T sees: one made by tools/fuse_split.py, or the
# dataset itself for the visible images. Everything else is mmdet's config.
_base_ = [
    'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py',
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
    dataset=dict(dataset=dict(both_splits, ann_file='splits/train.txt')))
val_dataloader = dict(
    dataset=dict(both_splits, ann_file='splits/test.txt'))
test_dataloader = val_dataloader
# mAP@0.5, the paper's M3FD metric (no COCO json needed).
val_evaluator = dict(
    _delete_=True, type='VOCMetric', metric='mAP', iou_thrs=[0.5],
    eval_mode='area')
test_evaluator = val_evaluator
