"""Checks that the optimizer wrappers fit TDFusion's phases."""
import pytest
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict
from torch import nn

from tdfusion_mm.engine.optimizers import NonFiniteSkipOptimWrapper
from tdfusion_mm.models.algorithms.optimizer_checks import (
    check_hypergradient_wrapper, check_optimizers, nonfinite_skips)


def wrapper(module, cls=NonFiniteSkipOptimWrapper):
    return cls(torch.optim.SGD(module.parameters(), lr=0.1))


def parts():
    return nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2)


def test_learning_f_and_t_needs_one_of_their_wrappers():
    f, g, t = parts()
    only_g = OptimWrapperDict(loss_generator=wrapper(g))
    with pytest.raises(KeyError, match='nothing to train'):
        check_optimizers(only_g, f, g, meta_phase=False)
    for key, part in (('fusion_backbone', f), ('task_model', t)):
        check_optimizers(OptimWrapperDict(**{key: wrapper(part)}), f, g,
                         meta_phase=False)


def test_learning_g_needs_f_and_g_wrappers():
    f, g, t = parts()
    no_f = OptimWrapperDict(loss_generator=wrapper(g),
                            task_model=wrapper(t))
    with pytest.raises(KeyError, match='fusion_backbone'):
        check_optimizers(no_f, f, g, meta_phase=True)
    check_optimizers(
        OptimWrapperDict(fusion_backbone=wrapper(f),
                         loss_generator=wrapper(g)), f, g, meta_phase=True)


def test_learning_g_needs_trainable_f_and_g():
    f, g, _ = parts()
    g.requires_grad_(False)
    optim = OptimWrapperDict(fusion_backbone=wrapper(f),
                             loss_generator=wrapper(f))
    with pytest.raises(ValueError, match='meta_steps=0'):
        check_optimizers(optim, f, g, meta_phase=True)
    check_optimizers(optim, f, g, meta_phase=False)


def test_g_wrapper_must_skip_nonfinite_unscaled_hypergradients():
    g = nn.Linear(2, 2)
    check_hypergradient_wrapper(wrapper(g))
    with pytest.raises(TypeError, match='NonFiniteSkipOptimWrapper'):
        check_hypergradient_wrapper(wrapper(g, OptimWrapper))
    # AmpOptimWrapper's constructor refuses a machine without GPU.
    with pytest.raises(TypeError, match='must not be an AmpOptimWrapper'):
        check_hypergradient_wrapper(AmpOptimWrapper.__new__(AmpOptimWrapper))


def test_nonfinite_skips_sums_the_wrappers_that_count():
    f, g, t = parts()
    optim = OptimWrapperDict(fusion_backbone=wrapper(f),
                             loss_generator=wrapper(g),
                             task_model=wrapper(t, OptimWrapper))
    optim['fusion_backbone'].nonfinite_skips = 2
    optim['loss_generator'].nonfinite_skips = 3
    skips = nonfinite_skips(optim)
    assert torch.is_tensor(skips) and skips.item() == 5
