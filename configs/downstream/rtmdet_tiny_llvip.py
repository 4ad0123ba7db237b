# The downstream protocol on LLVIP with mmdet's stock RTMDet-tiny (see
# _base_/llvip_splits.py for TASK_DATA_ROOT).
_base_ = [
    'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py',
    './_base_/tdfusion_imports.py',
    './_base_/llvip_splits.py',
]
# Checkpoints that torch >= 2.6 loads weights-only (mmdet's and mmseg's
# tools/test.py, resume, and TDFusion's model.task_checkpoint).
default_hooks = dict(
    safe_checkpoint=dict(type='tdfusion_mm.SafeCheckpointHook'))

# The stock config's dataset variables, set to what is read (else a
# dumped config would show COCO's).
data_root = _base_.llvip_split.data_root
dataset_type = _base_.llvip_split.type
model = dict(bbox_head=dict(num_classes=1))
train_dataloader = dict(dataset=_base_.llvip_train)
val_dataloader = dict(dataset=_base_.llvip_test)
test_dataloader = val_dataloader
val_evaluator = _base_.voc_ap50_metric
test_evaluator = val_evaluator
