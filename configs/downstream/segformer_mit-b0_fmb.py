# The downstream protocol on FMB with mmseg's stock SegFormer (MiT-B0):
# segformer_mit-b0_msrs.py at FMB's sizes and folders. TASK_DATA_ROOT
# (default data/FMB/) is a folder in FMB's layout whose {train,test}/Visible/
# hold the images T sees. FMB's pairs are 600x800; all 15 labels count.
_base_ = './segformer_mit-b0_msrs.py'

data_root = '{{$TASK_DATA_ROOT:data/FMB/}}'
dataset_type = 'tdfusion_mm.FMBDataset'
image_scale = (800, 600)  # (w, h)
crop_size = (512, 512)  # (h, w)

model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=15))
# The pipelines of segformer_mit-b0_msrs.py at these sizes.
train_pipeline = _base_.train_pipeline
train_pipeline[2].scale = image_scale  # RandomResize
train_pipeline[3].crop_size = crop_size  # RandomCrop
test_pipeline = _base_.test_pipeline
test_pipeline[1].scale = image_scale  # Resize

both_splits = dict(type=dataset_type, data_root=data_root)
train_dataloader = dict(
    dataset=dict(
        both_splits, pipeline=train_pipeline,
        data_prefix=dict(img_path='train/Visible', ir_path='train/Infrared',
                         seg_map_path='train/Label')))
val_dataloader = dict(
    dataset=dict(
        both_splits, pipeline=test_pipeline,
        data_prefix=dict(img_path='test/Visible', ir_path='test/Infrared',
                         seg_map_path='test/Label')))
test_dataloader = val_dataloader
