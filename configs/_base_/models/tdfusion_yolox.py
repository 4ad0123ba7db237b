# TDFusion with mmdet's YOLOX-tiny as the task network (the paper uses
# YOLOv8-n, which mmdet does not ship; YOLOX-tiny is mmdet's YOLO of that
# size). The config that inherits this one sets the dataset's classes
# (`bbox_head.num_classes`).
_base_ = './tdfusion.py'
model = dict(
    task_model=dict(
        cfg_path='mmdet::yolox/yolox_tiny_8xb8-300e_coco.py',
        cfg_options=dict(
            # The pipeline already gives the paper's fixed task size.
            data_preprocessor=dict(batch_augments=None))))
