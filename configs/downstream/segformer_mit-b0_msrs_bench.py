# The downstream protocol on MSRS's fixed benchmark split at a CPU budget:
# mmseg's SegFormer-B0, from scratch, trained on splits/bench_train.txt and
# tested on splits/bench_val.txt (both under train/), at 160x120, 1,000
# iterations. The fusion-loss study's segmentation task uses the same split
# and size. TASK_DATA_ROOT as in segformer_mit-b0_msrs.py.
_base_ = './segformer_mit-b0_msrs.py'

image_scale = (160, 120)  # (w, h)
crop_size = (120, 160)  # (h, w)
max_iters = 1000

model = dict(
    data_preprocessor=dict(size=crop_size),
    # From scratch: no download, and the study's T starts from scratch too.
    backbone=dict(init_cfg=None))
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
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file='splits/bench_train.txt', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(
        ann_file='splits/bench_val.txt', pipeline=test_pipeline,
        data_prefix=dict(_delete_=True, img_path='train/vi',
                         ir_path='train/ir', seg_map_path='train/Label')))
test_dataloader = val_dataloader

# From scratch and short: a larger step than the stock 6e-5 (which is for
# the pretrained backbone), the same for the head.
optim_wrapper = dict(
    optimizer=dict(lr=1e-3),
    paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=1.0))))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=50),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=50, end=max_iters,
         by_epoch=False),
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
