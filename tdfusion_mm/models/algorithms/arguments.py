"""Checks of TDFusion's arguments."""
from torch import nn

from tdfusion_mm.models.meta import HESSIAN_VECTOR_MODES


# Arguments TDFusion no longer takes -> what to write instead.
REMOVED_ARGUMENTS = dict(
    task_input="model.fusion_backbone=dict(type='PassThroughFusion', "
    "source='visible' or 'infrared') with model.swap_modalities=False and "
    'train_cfg.meta_steps=0',
    freeze_task_model='optim_wrapper.task_model=None (T without an '
    'optimizer is frozen)')


def refuse_removed_arguments(arguments: dict) -> None:
    """Name what to write instead of a removed argument of TDFusion."""
    for key in arguments:
        if key not in REMOVED_ARGUMENTS:
            raise TypeError(f'model.{key}: TDFusion has no such argument')
        raise KeyError(f'model.{key} is no longer an option: write '
                       f'{REMOVED_ARGUMENTS[key]}')


def check_arguments(task_in_channels: int, hessian_vector: str) -> None:
    """Refuse a ``task_in_channels`` other than 1 or 3 and an unknown
    ``hessian_vector``."""
    if task_in_channels not in (1, 3):
        raise ValueError('model.task_in_channels must be 1 or 3, got '
                         f'{task_in_channels}')
    if hessian_vector not in HESSIAN_VECTOR_MODES:
        raise ValueError('model.hessian_vector must be one of '
                         f'{HESSIAN_VECTOR_MODES}, got {hessian_vector!r}')


def check_swap(swap_modalities: bool, fusion_backbone: nn.Module) -> None:
    """Refuse the modality swap for an F without parameters (a
    :class:`PassThroughFusion`): T would see the other modality."""
    if swap_modalities and not any(
            True for _ in fusion_backbone.parameters()):
        raise ValueError(
            f'model.swap_modalities=True with a '
            f'{type(fusion_backbone).__name__} F, which has no '
            'parameters to learn from the swap (T would see the other '
            'modality): set model.swap_modalities=False')
