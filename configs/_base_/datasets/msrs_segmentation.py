# MSRS (Tang et al., Information Fusion 2022; built from MFNet) in its
# official layout: {train,test}/{ir,vi,Label}/<id>.png, 480x640. The label
# folder is `Segmentation_labels` in some releases: set `seg_map_path`.
# All 9 labels count in the mIoU, `unlabelled` (0) included (see
# MSRSDataset).
_base_ = './paired_segmentation.py'

dataset_type = 'MSRSDataset'
data_root = 'data/MSRS/'
task_hw = (240, 320)  # (h, w): the paper's MSRS task resolution
task_size = task_hw[::-1]  # (w, h), as mmseg.Resize takes it
fusion_crop = (256, 256)  # the fusion loss's crops, at native resolution

train_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='LoadSegAnnotations'),
    dict(type='RandomFusionCrop', crop_size=fusion_crop),
    # Geometric transforms: the same on the infrared image, the visible image
    # and the label map. The paper resizes the whole pair to the task size.
    dict(type='PairedTransform', transforms=[
        dict(type='mmseg.Resize', scale=task_size, keep_ratio=False),
        dict(type='mmseg.RandomFlip', prob=0.5),
    ]),
    # Photometric transforms (e.g. mmseg.PhotoMetricDistortion) go here,
    # outside PairedTransform: they change the visible image only.
    dict(type='PackFusionSegInputs'),
]
test_pipeline = [
    dict(type='LoadIrVisFromFile'),
    dict(type='PairedTransform', transforms=[
        dict(type='mmseg.Resize', scale=task_size, keep_ratio=False),
    ]),
    # Loaded after the resize: the mIoU is computed at the original size.
    dict(type='LoadSegAnnotations'),
    dict(type='PackFusionSegInputs'),
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline,
        data_prefix=dict(img_path='train/vi', ir_path='train/ir',
                         seg_map_path='train/Label')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline,
        data_prefix=dict(img_path='test/vi', ir_path='test/ir',
                         seg_map_path='test/Label')))
test_dataloader = val_dataloader
