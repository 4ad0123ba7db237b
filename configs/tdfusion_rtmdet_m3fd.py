# Another detector family as the task network, by inheritance alone:
# RTMDet-tiny instead of YOLOX-tiny, everything else as tdfusion_yolo_m3fd.
_base_ = './tdfusion_yolo_m3fd.py'

model = dict(
    task_model=dict(
        _delete_=True,
        cfg_path='mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py',
        cfg_options=dict(
            bbox_head=dict(num_classes=6),
            # No download at build time: train the backbone from scratch, or
            # set an ImageNet checkpoint here.
            backbone=dict(init_cfg=None),
            data_preprocessor=dict(batch_augments=None))))
