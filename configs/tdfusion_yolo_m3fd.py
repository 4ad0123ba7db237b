# TDFusion on M3FD with YOLOX-tiny as the task network (see
# _base_/models/tdfusion_yolox.py). Usage:
#   python tools/train.py configs/tdfusion_yolo_m3fd.py
_base_ = [
    './_base_/models/tdfusion_yolox.py',
    './_base_/datasets/m3fd_detection.py',
    './_base_/schedules/tdfusion_40e.py',
    './_base_/detection_runtime.py',
]

model = dict(task_model=dict(cfg_options=dict(bbox_head=dict(num_classes=6))))
