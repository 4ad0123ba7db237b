# TDFusion on MSRS with SegFormer MiT-B0 as the task network, the paper's
# choice. Usage: python tools/train.py configs/tdfusion_segformer_msrs.py
_base_ = [
    './_base_/models/tdfusion_segformer.py',
    './_base_/datasets/msrs_segmentation.py',
    './_base_/schedules/tdfusion_40e.py',
    './_base_/segmentation_runtime.py',
]

model = dict(
    task_model=dict(
        cfg_options=dict(
            decode_head=dict(num_classes=9),
            # The task size, not the ADE20K crop of 512x512.
            data_preprocessor=dict(size={{_base_.task_hw}}))))
