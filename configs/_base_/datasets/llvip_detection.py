# LLVIP (Jia et al., ICCV-W 2021) in its official layout:
# infrared/{train,test}/, visible/{train,test}/, Annotations/ (person only).
_base_ = './paired_detection.py'

dataset_type = 'LLVIPDataset'
data_root = 'data/LLVIP/'
task_size = (320, 256)  # (w, h): the paper's LLVIP task resolution 256x320
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
        data_prefix=dict(img_path='visible/train', ir_path='infrared/train',
                         xml_path='Annotations')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline,
        data_prefix=dict(img_path='visible/test', ir_path='infrared/test',
                         xml_path='Annotations')))
test_dataloader = val_dataloader
