"""LoadOptimizerStateHook: Adam's moments carried into a new run."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict

from tdfusion_mm.engine.hooks import LoadOptimizerStateHook


def wrappers(**parts):
    """An OptimWrapperDict of Adam over one linear layer per part."""
    return OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.Adam(layer.parameters(), lr=1e-3))
        for name, layer in parts.items()})


def trained_state(layers, steps=3):
    """The optimizer state after a few steps on ``layers``."""
    optim = wrappers(**layers)
    for _ in range(steps):
        for name, layer in layers.items():
            optim[name].update_params(layer(torch.ones(1, 2)).pow(2).sum())
    return optim.state_dict()


def test_shared_optimizers_get_their_moments_and_a_new_one_starts_fresh(
        tmp_path):
    torch.manual_seed(0)
    f, t, g = (torch.nn.Linear(2, 2) for _ in range(3))
    saved = trained_state(dict(fusion_backbone=f, task_model=t))
    path = str(tmp_path / 'stage1.pth')
    torch.save(dict(optimizer=saved), path)
    runner = SimpleNamespace(optim_wrapper=wrappers(
        fusion_backbone=f, task_model=t, loss_generator=g))
    LoadOptimizerStateHook(path).before_train(runner)
    for part in ('fusion_backbone', 'task_model'):
        state = runner.optim_wrapper[part].optimizer.state_dict()['state']
        for key, moments in saved[part]['state'].items():
            assert torch.equal(state[key]['exp_avg'], moments['exp_avg'])
            assert int(state[key]['step']) == 3
    assert not runner.optim_wrapper['loss_generator'].optimizer.state


def test_a_part_that_either_run_lacks_is_named(tmp_path):
    f = torch.nn.Linear(2, 2)
    path = str(tmp_path / 'stage1.pth')
    torch.save(dict(optimizer=trained_state(dict(fusion_backbone=f))), path)
    runner = SimpleNamespace(optim_wrapper=wrappers(fusion_backbone=f))
    with pytest.raises(KeyError, match="'task_model'.*stage1.pth"):
        LoadOptimizerStateHook(path, parts=['task_model']).before_train(
            runner)
    torch.save(dict(state_dict={}), path)
    with pytest.raises(KeyError, match='stage1.pth holds no optimizer'):
        LoadOptimizerStateHook(path).before_train(runner)
