# The downstream protocol on MSRS with mmseg's stock SegFormer (MiT-B0),
# trained and tested on the images of one method:
#   TASK_DATA_ROOT=work_dirs/fused/msrs python mmseg/tools/train.py \
#       configs/downstream/segformer_mit-b0_msrs.py
# TASK_DATA_ROOT (default data/MSRS/) is a folder in MSRS's layout whose
# {train,test}/vi/ hold the images T sees (see tools/fuse_split.py). The
# model, optimizer and schedule are mmseg's; the augmentations are its
# ADE20K ones at MSRS's 480x640 resolution, and all 9 labels count.
_base_ = [
    'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
    './_base_/tdfusion_imports.py',
]
# Checkpoints that torch >= 2.6 loads weights-only (mmdet's and mmseg's
# tools/test.py, resume, and TDFusion's model.task_checkpoint).
default_hooks = dict(
    safe_checkpoint=dict(type='tdfusion_mm.SafeCheckpointHook'))

data_root = '{{$TASK_DATA_ROOT:data/MSRS/}}'
dataset_type = 'tdfusion_mm.MSRSDataset'
image_scale = (640, 480)  # (w, h)
crop_size = (480, 480)  # (h, w)

model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=9))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=image_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
both_splits = dict(type=dataset_type, data_root=data_root)
train_dataloader = dict(
    dataset=dict(
        both_splits, pipeline=train_pipeline,
        data_prefix=dict(_delete_=True, img_path='train/vi',
                         ir_path='train/ir', seg_map_path='train/Label')))
val_dataloader = dict(
    dataset=dict(
        both_splits, pipeline=test_pipeline,
        data_prefix=dict(_delete_=True, img_path='test/vi',
                         ir_path='test/ir', seg_map_path='test/Label')))
test_dataloader = val_dataloader
