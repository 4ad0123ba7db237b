"""MultiOptimWrapperConstructor: one optimizer wrapper per sub-module."""
import pytest
import torch
from mmengine.optim import OptimWrapperDict
from torch import nn

from tdfusion_mm.engine.optimizers import MultiOptimWrapperConstructor


class TwoParts(nn.Module):

    def __init__(self):
        super().__init__()
        self.fusion_backbone = nn.Sequential(nn.Conv2d(1, 2, 3),
                                             nn.BatchNorm2d(2))
        self.loss_generator = nn.Conv2d(2, 2, 1).requires_grad_(False)
        self.task_model = nn.Linear(2, 2)


def test_each_trainable_sub_module_gets_its_own_wrapper():
    model = TwoParts()
    wrappers = MultiOptimWrapperConstructor(dict(
        fusion_backbone=dict(
            optimizer=dict(type='SGD', lr=0.1, weight_decay=1e-2),
            paramwise_cfg=dict(norm_decay_mult=0.)),
        loss_generator=dict(optimizer=dict(type='SGD', lr=0.2)),
        task_model=dict(accumulative_counts=2,
                        optimizer=dict(type='Adam', lr=0.3))))(model)
    assert isinstance(wrappers, OptimWrapperDict)
    # G has no trainable parameter: no optimizer (torch refuses an empty one)
    assert sorted(wrappers.keys()) == ['fusion_backbone', 'task_model']
    f_optim = wrappers['fusion_backbone'].optimizer
    f_params = {id(p) for g in f_optim.param_groups for p in g['params']}
    assert f_params == {id(p) for p in model.fusion_backbone.parameters()}
    decays = sorted(g['weight_decay'] for g in f_optim.param_groups)
    assert decays[0] == 0 and decays[-1] == pytest.approx(1e-2)  # paramwise
    t_wrapper = wrappers['task_model']
    assert t_wrapper._accumulative_counts == 2  # its own wrapper settings
    assert isinstance(t_wrapper.optimizer, torch.optim.Adam)
    assert t_wrapper.optimizer.param_groups[0]['lr'] == 0.3


def test_a_part_set_to_none_gets_no_optimizer():
    model = TwoParts()
    wrappers = MultiOptimWrapperConstructor(dict(
        fusion_backbone=dict(optimizer=dict(type='SGD', lr=0.1)),
        task_model=None))(model)
    assert list(wrappers.keys()) == ['fusion_backbone']


def test_config_errors_name_the_key():
    with pytest.raises(ValueError, match='paramwise_cfg'):
        MultiOptimWrapperConstructor(
            dict(task_model=dict(optimizer=dict(type='SGD', lr=1))),
            paramwise_cfg=dict(norm_decay_mult=0.))
    with pytest.raises(ValueError, match='names no sub-module'):
        MultiOptimWrapperConstructor({})
    with pytest.raises(TypeError, match='optim_wrapper.task_model'):
        MultiOptimWrapperConstructor(dict(task_model='SGD'))
    constructor = MultiOptimWrapperConstructor(
        dict(detector=dict(optimizer=dict(type='SGD', lr=1))))
    with pytest.raises(KeyError, match='optim_wrapper.detector: TwoParts'):
        constructor(TwoParts())
