"""T's look-ahead step undone after the meta pair."""
import torch
from helpers import changed, optimizer_tensors, state
from torch import nn

from tdfusion_mm.engine.optimizers import NonFiniteSkipOptimWrapper
from tdfusion_mm.models.algorithms.task_lookahead import restored_task


def step(task, optim, scale=1.0):
    with optim.optim_context(task):
        loss = task(torch.rand(4, 2)).square().sum() * scale
    optim.update_params(loss)


def test_weights_buffers_and_optimizer_state_are_restored():
    torch.manual_seed(0)
    task = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).train()
    optim = NonFiniteSkipOptimWrapper(torch.optim.Adam(task.parameters()))
    step(task, optim)  # some optimizer state to restore
    before, optim_before = state(task), optimizer_tensors(optim)
    with restored_task(task, optim):
        step(task, optim)
        step(task, optim, scale=float('nan'))  # skipped, and counted
        assert changed(before, task)
        assert any(not torch.equal(v, optimizer_tensors(optim)[k])
                   for k, v in optim_before.items())
    assert not changed(before, task)
    after = optimizer_tensors(optim)
    assert after.keys() == optim_before.keys()
    assert all(torch.equal(v, after[k]) for k, v in optim_before.items())
    assert optim.nonfinite_skips == 1


def test_a_frozen_task_has_nothing_to_restore():
    task = nn.Linear(2, 2)
    before = task.weight.detach().clone()
    with restored_task(task, None):
        with torch.no_grad():
            task.weight.add_(1)
    assert torch.equal(task.weight, before + 1)  # no state was saved
