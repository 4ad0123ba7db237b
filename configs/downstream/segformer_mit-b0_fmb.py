# The downstream protocol on FMB with mmseg's stock SegFormer (MiT-B0); see
# segformer_mit-b0_msrs.py. TASK_DATA_ROOT (default data/FMB/) is a folder
# in FMB's layout whose {train,test}/Visible/ hold the images T sees. FMB's
# pairs are 600x800; all 15 labels count.
_base_ = [
    'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
    './_base_/tdfusion_imports.py',
]
# Checkpoints that torch >= 2.6 loads weights-only (mmdet's and mmseg's
# tools/test.py, resume, and TDFusion's model.task_checkpoint).
default_hooks = dict(
    safe_checkpoint=dict(type='tdfusion_mm.SafeCheckpointHook'))

data_root = '{{$TASK_DATA_ROOT:data/FMB/}}'
dataset_type = 'tdfusion_mm.FMBDataset'
image_scale = (800, 600)  # (w, h)
crop_size = (512, 512)  # (h, w)

model = dict(decode_head=dict(num_classes=15))
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
        data_prefix=dict(_delete_=True, img_path='train/Visible',
                         ir_path='train/Infrared',
                         seg_map_path='train/Label')))
val_dataloader = dict(
    dataset=dict(
        both_splits, pipeline=test_pipeline,
        data_prefix=dict(_delete_=True, img_path='test/Visible',
                         ir_path='test/Infrared', seg_map_path='test/Label')))
test_dataloader = val_dataloader
