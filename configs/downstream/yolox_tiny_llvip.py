# The downstream protocol on LLVIP with mmdet's stock YOLOX-tiny (see
# yolox_tiny_m3fd.py). TASK_DATA_ROOT (default data/LLVIP/) is a folder in
# LLVIP's layout whose visible/{train,test}/ hold the images T sees.
_base_ = [
    'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py',
    './_base_/tdfusion_imports.py',
]
# Checkpoints that torch >= 2.6 loads weights-only (mmdet's and mmseg's
# tools/test.py, resume, and TDFusion's model.task_checkpoint).
default_hooks = dict(
    safe_checkpoint=dict(type='tdfusion_mm.SafeCheckpointHook'))

data_root = '{{$TASK_DATA_ROOT:data/LLVIP/}}'
dataset_type = 'tdfusion_mm.LLVIPDataset'

# The fields of both splits: the image folders differ (the annotations of
# both share one folder).
both_splits = dict(type=dataset_type, data_root=data_root, ann_file='')

model = dict(bbox_head=dict(num_classes=1))
train_dataloader = dict(
    dataset=dict(dataset=dict(
        both_splits,
        data_prefix=dict(_delete_=True, img_path='visible/train',
                         ir_path='infrared/train', xml_path='Annotations'))))
val_dataloader = dict(
    dataset=dict(
        both_splits,
        data_prefix=dict(_delete_=True, img_path='visible/test',
                         ir_path='infrared/test', xml_path='Annotations')))
test_dataloader = val_dataloader
# AP@0.5, the paper's LLVIP metric (no COCO json needed).
val_evaluator = dict(
    _delete_=True, type='VOCMetric', metric='mAP', iou_thrs=[0.5],
    eval_mode='area')
test_evaluator = val_evaluator
