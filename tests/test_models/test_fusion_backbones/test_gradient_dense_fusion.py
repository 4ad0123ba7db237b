"""GradientDenseFusion, the light F: any size, its range, and the exact
meta step through it (forward mode) against finite differences."""
import pytest
import torch
from test_models.test_meta.test_meta_step import (INNER_LR,
                                                  finite_difference,
                                                  make_problem,
                                                  relative_error)

from tdfusion_mm.models.fusion_backbones import GradientDenseFusion
from tdfusion_mm.models.meta import meta_hypergradient
from tdfusion_mm.registry import MODELS


@pytest.mark.parametrize('size', [(1, 1), (5, 3), (37, 53), (96, 128)])
def test_any_size_and_range(size):
    torch.manual_seed(0)
    net = MODELS.build(dict(type='GradientDenseFusion'))
    assert type(net) is GradientDenseFusion
    ir, vis = torch.rand(2, 1, *size), torch.rand(2, 1, *size)
    fused = net(ir, vis)
    assert fused.shape == (2, 1, *size)
    assert ((fused > 0) & (fused < 1)).all()
    fused.sum().backward()
    if min(size) >= 3:  # (a 1x1 image has no gradient for the Sobel path)
        assert all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in net.parameters())


def test_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match=r'\(B, 1, H, W\)'):
        GradientDenseFusion()(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))


def test_forward_mode_matches_finite_differences():
    torch.manual_seed(0)
    net = GradientDenseFusion().double()
    ir, vis = (torch.rand(1, 1, 9, 11, dtype=torch.float64)
               for _ in range(2))
    params = {n: p.detach() for n, p in net.named_parameters()}
    tangents = {n: torch.randn_like(p) for n, p in params.items()}

    def fuse(p):
        return torch.func.functional_call(net, p, (ir, vis))

    _, jvp = torch.func.jvp(fuse, (params, ), (tangents, ))
    eps = 1e-6
    shifted = [fuse({n: p + s * eps * tangents[n] for n, p in params.items()})
               for s in (1, -1)]
    fd = (shifted[0] - shifted[1]) / (2 * eps)
    assert jvp.abs().max() > 1e-3  # not trivial
    torch.testing.assert_close(jvp, fd, rtol=1e-6, atol=1e-8)


def test_exact_hypergradient_matches_finite_differences():
    problem = make_problem(lambda: GradientDenseFusion(channels=2, growth=2))
    result = meta_hypergradient(*problem, INNER_LR)
    fd = finite_difference(*problem)
    assert sum(v.abs().sum() for v in fd.values()) > 1e-8
    assert relative_error(result.hypergrads, fd) < 1e-4
