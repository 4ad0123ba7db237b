# FMB (Liu et al., SegMiF, ICCV 2023) in its official layout:
# {train,test}/{Infrared,Visible,Label}/<id>.png, 600x800. All 15 labels
# count in the mIoU, `background` (0) included (see FMBDataset).
_base_ = './paired_segmentation.py'
from tdfusion_mm.datasets.task_size import at_task_size  # noqa: E402

dataset_type = 'FMBDataset'
data_root = 'data/FMB/'
task_hw = (300, 400)  # (h, w): the paper's FMB task resolution
task_size = task_hw[::-1]  # (w, h), as mmseg.Resize takes it

train_pipeline = at_task_size(_base_.train_pipeline, task_size)
test_pipeline = at_task_size(_base_.test_pipeline, task_size)

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
