"""Checks that TDFusion's optimizer wrappers fit its phases, and their skip
count."""
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict
from torch import Tensor, nn


def check_optimizers(optim_wrapper: OptimWrapperDict,
                     fusion_backbone: nn.Module, loss_generator: nn.Module,
                     meta_phase: bool) -> None:
    """Refuse optimizer wrappers that leave a phase nothing to train:
    learning G (``meta_phase``) needs F's and G's, learning F and T one of
    theirs.

    Raises:
        KeyError: A wrapper a phase needs is missing.
        ValueError: F or G has no trainable parameter to meta-learn.
    """
    keys = set(optim_wrapper.keys())
    if not meta_phase:
        if not keys & {'fusion_backbone', 'task_model'}:
            raise KeyError('optim_wrapper has neither `fusion_backbone` '
                           'nor `task_model`: nothing to train')
    elif not all(
            any(p.requires_grad for p in part.parameters())
            for part in (fusion_backbone, loss_generator)):
        raise ValueError(
            f'TDFusion: nothing to meta-learn with fusion_backbone '
            f'{type(fusion_backbone).__name__} and loss_generator '
            f'{type(loss_generator).__name__}: set '
            'train_cfg.meta_steps=0')
    elif not keys >= {'fusion_backbone', 'loss_generator'}:
        missing = sorted({'fusion_backbone', 'loss_generator'} - keys)
        raise KeyError(f'optim_wrapper has no {missing}: learning G '
                       'needs an optimizer wrapper for F and one for G')


def check_hypergradient_wrapper(g_optim: OptimWrapper) -> None:
    """Refuse a wrapper for G that cannot take a hypergradient.

    Raises:
        TypeError: ``g_optim`` scales losses (an ``AmpOptimWrapper``) or
            cannot skip a non-finite gradient (no ``finite_or_skip``).
    """
    if isinstance(g_optim, AmpOptimWrapper):
        raise TypeError(
            'optim_wrapper.loss_generator must not be an AmpOptimWrapper: '
            "G's gradient is set from its float32 hypergradient, not "
            'back-propagated from a scaled loss')
    if not hasattr(g_optim, 'finite_or_skip'):
        raise TypeError(
            'optim_wrapper.loss_generator must be a '
            'NonFiniteSkipOptimWrapper (it skips a non-finite '
            f'hypergradient), got {type(g_optim).__name__}')


def nonfinite_skips(optim_wrapper: OptimWrapperDict) -> Tensor:
    """Updates skipped so far for a non-finite value, all wrappers together
    (see ``NonFiniteSkipOptimWrapper``)."""
    return torch.tensor(
        float(
            sum(
                getattr(wrapper, 'nonfinite_skips', 0)
                for wrapper in optim_wrapper.values())))
