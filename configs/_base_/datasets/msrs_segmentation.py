# MSRS (Tang et al., Information Fusion 2022; built from MFNet) in its
# official layout: {train,test}/{ir,vi,Label}/<id>.png, 480x640. The label
# folder is `Segmentation_labels` in some releases: set `seg_map_path`.
# All 9 labels count in the mIoU, `unlabelled` (0) included (see
# MSRSDataset).
_base_ = './paired_segmentation.py'
from tdfusion_mm.datasets.task_size import at_task_size  # noqa: E402

dataset_type = 'MSRSDataset'
data_root = 'data/MSRS/'
task_hw = (240, 320)  # (h, w): the paper's MSRS task resolution
task_size = task_hw[::-1]  # (w, h), as mmseg.Resize takes it

train_pipeline = at_task_size(_base_.train_pipeline, task_size)
test_pipeline = at_task_size(_base_.test_pipeline, task_size)

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
