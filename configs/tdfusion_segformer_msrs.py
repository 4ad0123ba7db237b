# TDFusion on MSRS with SegFormer MiT-B0 as the task network, the paper's
# choice. Usage: python tools/train.py configs/tdfusion_segformer_msrs.py
_base_ = [
    './_base_/models/tdfusion.py',
    './_base_/datasets/msrs_segmentation.py',
    './_base_/schedules/tdfusion_40e.py',
    './_base_/default_runtime.py',
]

model = dict(
    # The pipeline resizes every pair to the task size, so nothing needs
    # padding; labels are padded with 255 (ignored) should sizes differ.
    data_preprocessor=dict(pad_size_divisor=1, pad_seg=True),
    task_model=dict(
        cfg_path='mmseg::segformer/'
        'segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
        cfg_options=dict(
            # No download at build time: train from scratch as the paper
            # does, or set an ImageNet checkpoint here.
            backbone=dict(init_cfg=None),
            decode_head=dict(num_classes=9),
            # (h, w) of the task size, not the ADE20K crop of 512x512.
            data_preprocessor=dict(size=(240, 320)))))

default_hooks = dict(visualization=dict(type='mmseg.SegVisualizationHook'))
visualizer = dict(type='mmseg.SegLocalVisualizer')
