"""G's optimizer step on its hypergradient."""
import pytest
import torch
from torch import nn

from tdfusion_mm.engine.optimizers import NonFiniteSkipOptimWrapper
from tdfusion_mm.models.algorithms.generator_step import \
    step_on_hypergradient


def generator_and_optim():
    generator = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        generator.weight.zero_()
    optim = NonFiniteSkipOptimWrapper(
        torch.optim.SGD(generator.parameters(), lr=1.0))
    return generator, optim


@pytest.mark.parametrize('normalize', [True, False])
def test_step_on_the_hypergradient(normalize):
    generator, optim = generator_and_optim()
    hypergrad = torch.tensor([[2.0, -4.0]])
    scale = step_on_hypergradient(optim, generator,
                                  dict(weight=hypergrad.clone()),
                                  torch.tensor(1.0), normalize)
    assert scale == 4
    expected = -hypergrad / 4 if normalize else -hypergrad
    assert torch.equal(generator.weight.detach(), expected)
    assert generator.weight.grad is None  # zeroed after the step


def test_a_nonfinite_hypergradient_skips_the_step():
    generator, optim = generator_and_optim()
    hypergrads = dict(weight=torch.tensor([[float('nan'), 1.0]]))
    step_on_hypergradient(optim, generator, hypergrads, torch.tensor(1.0),
                          True)
    assert not generator.weight.detach().any()
    assert optim.nonfinite_skips == 1
