# M3FD (Liu et al., CVPR 2022) in its official layout: Ir/, Vis/, Annotation/.
# M3FD has no official split: the split files (one id per line) are made by
# tools/dataset_converters/make_m3fd_split.py (8:2, by blocks of
# consecutive ids).
_base_ = './paired_detection.py'

dataset_type = 'M3FDDataset'
data_root = 'data/M3FD/'
task_size = (256, 192)  # (w, h): the paper's M3FD task resolution 192x256
fusion_crop = (256, 256)  # the fusion loss's crops, at native resolution

train_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='RandomFusionCrop', crop_size=fusion_crop),
    dict(type='PairedTransform', transforms=[
        dict(type='mmdet.Resize', scale=task_size, keep_ratio=True),
        dict(type='mmdet.RandomFlip', prob=0.5),
        dict(type='mmdet.Pad', size=task_size,
             pad_val=dict(img=0)),
    ]),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='PairedTransform', transforms=[
        dict(type='mmdet.Resize', scale=task_size, keep_ratio=True),
        dict(type='mmdet.Pad', size=task_size, pad_val=dict(img=0)),
    ]),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    # `instances` lets CocoMetric evaluate without a COCO json file.
    dict(type='PackFusionDetInputs',
         meta_keys=('img_id', 'img_path', 'ir_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'instances')),
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline,
        ann_file='splits/train.txt'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline,
        ann_file='splits/test.txt'))
test_dataloader = val_dataloader
