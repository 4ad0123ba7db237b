# FMB (Liu et al., SegMiF, ICCV 2023) in its official layout:
# {train,test}/{Infrared,Visible,Label}/<id>.png, 600x800. All 15 labels
# count in the mIoU, `background` (0) included (see FMBDataset).
_base_ = './paired_segmentation.py'

dataset_type = 'FMBDataset'
data_root = 'data/FMB/'
task_hw = (300, 400)  # (h, w): the paper's FMB task resolution
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
        data_prefix=dict(img_path='train/Visible', ir_path='train/Infrared',
                         seg_map_path='train/Label')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline,
        data_prefix=dict(img_path='test/Visible', ir_path='test/Infrared',
                         seg_map_path='test/Label')))
test_dataloader = val_dataloader
