# TDFusion on LLVIP with YOLOX-tiny as the task network.
_base_ = [
    './_base_/models/tdfusion.py',
    './_base_/datasets/llvip_detection.py',
    './_base_/schedules/tdfusion_40e.py',
    './_base_/default_runtime.py',
]

model = dict(
    task_model=dict(
        cfg_path='mmdet::yolox/yolox_tiny_8xb8-300e_coco.py',
        cfg_options=dict(
            bbox_head=dict(num_classes=1),
            data_preprocessor=dict(batch_augments=None))))
