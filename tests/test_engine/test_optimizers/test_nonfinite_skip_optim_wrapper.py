"""NonFiniteSkipOptimWrapper: a non-finite loss or gradient skips the
update, puts the module's buffers back and is counted."""
import pytest
import torch
from torch import nn

from tdfusion_mm.engine.optimizers import NonFiniteSkipOptimWrapper


def net_and_wrapper():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    wrapper = NonFiniteSkipOptimWrapper(
        torch.optim.Adam(net.parameters(), lr=0.1))
    return net, wrapper


def snapshot(net):
    return {k: v.clone() for k, v in net.state_dict().items()}


def same(before, net):
    return all(torch.equal(v, net.state_dict()[k])
               for k, v in before.items())


@pytest.mark.parametrize('bad', ['loss', 'gradient'])
def test_a_nonfinite_update_is_skipped_and_counted(bad):
    net, wrapper = net_and_wrapper()
    before = snapshot(net)
    with wrapper.optim_context(net):
        out = net(torch.rand(5, 3))
    if bad == 'loss':
        loss = out.sum() * float('nan')
    else:  # finite, with an infinite gradient: sqrt at 0
        loss = torch.sqrt((out * 0).abs().sum())
    assert wrapper.update_params(loss) is False
    assert same(before, net), 'weights or BatchNorm statistics changed'
    assert not wrapper.optimizer.state
    assert all(p.grad is None for p in net.parameters())
    assert wrapper.nonfinite_skips == 1
    with wrapper.optim_context(net):
        loss = net(torch.rand(5, 3)).pow(2).sum()
    assert wrapper.update_params(loss) is True
    assert not same(before, net)
    assert wrapper.nonfinite_skips == 1


def test_finite_or_skip_and_the_count_in_the_state_dict():
    _, wrapper = net_and_wrapper()
    assert wrapper.finite_or_skip(torch.ones(2), what='hypergradient')
    assert not wrapper.finite_or_skip(torch.tensor(float('inf')),
                                      what='hypergradient')
    state = wrapper.state_dict()
    assert state['nonfinite_skips'] == 1
    _, other = net_and_wrapper()
    other.load_state_dict(state)
    assert other.nonfinite_skips == 1
    state.pop('nonfinite_skips')
    other.nonfinite_skips = 5
    other.load_state_dict(state)  # a state without the count keeps it
    assert other.nonfinite_skips == 5
