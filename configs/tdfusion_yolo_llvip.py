# TDFusion on LLVIP with YOLOX-tiny as the task network.
_base_ = [
    './_base_/models/tdfusion_yolox.py',
    './_base_/datasets/llvip_detection.py',
    './_base_/schedules/tdfusion_40e.py',
    './_base_/detection_runtime.py',
]

model = dict(task_model=dict(cfg_options=dict(bbox_head=dict(num_classes=1))))
