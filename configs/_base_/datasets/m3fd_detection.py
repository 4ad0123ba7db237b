# M3FD (Liu et al., CVPR 2022) in its official layout: Ir/, Vis/, Annotation/.
# M3FD has no official split: the split files (one id per line) are made by
# tools/dataset_converters/make_m3fd_split.py (8:2, by blocks of
# consecutive ids).
_base_ = './paired_detection.py'
from tdfusion_mm.datasets.task_size import at_task_size  # noqa: E402

dataset_type = 'M3FDDataset'
data_root = 'data/M3FD/'
task_size = (256, 192)  # (w, h): the paper's M3FD task resolution 192x256

train_pipeline = at_task_size(_base_.train_pipeline, task_size)
test_pipeline = at_task_size(_base_.test_pipeline, task_size)

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline,
        ann_file='splits/train.txt'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline,
        ann_file='splits/test.txt'))
test_dataloader = val_dataloader
