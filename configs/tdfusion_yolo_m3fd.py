# TDFusion on M3FD with YOLOX-tiny as the task network (the paper uses
# YOLOv8-n, which mmdet does not ship; YOLOX-tiny is mmdet's YOLO of that
# size). Usage: python tools/train.py configs/tdfusion_yolo_m3fd.py
_base_ = [
    './_base_/models/tdfusion.py',
    './_base_/datasets/m3fd_detection.py',
    './_base_/schedules/tdfusion_40e.py',
    './_base_/default_runtime.py',
]

model = dict(
    task_model=dict(
        cfg_path='mmdet::yolox/yolox_tiny_8xb8-300e_coco.py',
        cfg_options=dict(
            bbox_head=dict(num_classes=6),
            # The pipeline already gives the paper's fixed task size.
            data_preprocessor=dict(batch_augments=None))))
