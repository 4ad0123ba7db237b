# LLVIP (Jia et al., ICCV-W 2021) in its official layout:
# infrared/{train,test}/, visible/{train,test}/, Annotations/ (person only).
_base_ = './paired_detection.py'
from tdfusion_mm.datasets.task_size import at_task_size  # noqa: E402

dataset_type = 'LLVIPDataset'
data_root = 'data/LLVIP/'
task_size = (320, 256)  # (w, h): the paper's LLVIP task resolution 256x320

train_pipeline = at_task_size(_base_.train_pipeline, task_size)
test_pipeline = at_task_size(_base_.test_pipeline, task_size)

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
