# TDFusion with SegFormer MiT-B0 as the task network, the paper's choice for
# segmentation. The config that inherits this one sets the dataset's classes
# (`decode_head.num_classes`) and task size (`data_preprocessor.size`).
_base_ = './tdfusion.py'
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
            backbone=dict(init_cfg=None))))
