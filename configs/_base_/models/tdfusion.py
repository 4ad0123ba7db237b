# F, G and the fusion loss as in the paper; the task network comes from the
# config that inherits this one as `model.task_model` (any mmdet detector
# or mmseg segmentor).
model = dict(
    type='TDFusion',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=32),
    fusion_backbone=dict(type='ReFusion'),
    loss_generator=dict(type='LossGenerationModule'),
    fusion_loss=dict(type='LearnableFusionLoss', alpha_int=1.0,
                     alpha_grad=1.0),
    inner_lr=1e-4,
    swap_modalities=True,
    task_in_channels=3,
    normalize_hypergrad=True)
