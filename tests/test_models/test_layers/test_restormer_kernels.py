"""The fast kernels of the blocks (:mod:`.restormer_kernels`) give the plain
formulas of ``tdfusion_mm.testing.eager_reference`` (normalised q/k copies,
chunked convolutions, explicit layer norm, contiguous NCHW): with the
attention's normalisation folded into its Gram matrix, the output
projection folded into the attention matrix, in place without a graph."""
import pytest
import torch
from helpers import perturbed

from tdfusion_mm.models.fusion_backbones import ReFusion
from tdfusion_mm.models.layers import TransformerBlock, restormer_kernels
from tdfusion_mm.testing import refusion_forward


@pytest.mark.parametrize('size', [(37, 53), (61, 30)])
def test_fast_refusion_matches_eager_float32(size):
    net = perturbed(ReFusion()).eval()
    ir, vis = torch.rand(2, 1, *size), torch.rand(2, 1, *size)
    with torch.no_grad():
        ref = refusion_forward(net, ir, vis)
    with torch.inference_mode():
        fast = net(ir, vis)
    assert fast.shape == ref.shape
    assert (fast - ref).abs().max().item() <= 1e-5
    out = net(ir, vis)  # autograd path (no in-place ops)
    assert (out - ref).abs().max().item() <= 1e-5


def test_fast_refusion_gradients_match_eager_float64():
    net = perturbed(ReFusion(), torch.float64)
    ir = torch.rand(1, 1, 13, 17, dtype=torch.float64, requires_grad=True)
    vis = torch.rand(1, 1, 13, 17, dtype=torch.float64, requires_grad=True)
    params = dict(net.named_parameters())
    w = torch.rand(1, 1, 13, 17, dtype=torch.float64)

    def grads(fn):
        out = (fn(ir, vis) * w).sum()
        g = torch.autograd.grad(out, [ir, vis, *params.values()],
                                create_graph=True)
        # second order: F stays twice differentiable (test_meta_step checks
        # the meta step's forward-mode product against a double backward)
        gg = torch.autograd.grad(sum((x * x).sum() for x in g[2:]),
                                 [ir, vis])
        return [x.detach() for x in g] + list(gg)

    fast = grads(lambda a, b: net(a, b))
    ref = grads(lambda a, b: refusion_forward(net, a, b))
    for a, b in zip(fast, ref):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-11)


def test_gram_sums_stay_finite_under_float16_autocast():
    """Sums over positions beyond float16's range (here large q and k at
    32x32; ReFusion's own at 480x640) are taken in float32."""
    block = perturbed(TransformerBlock(8, 2)).eval()
    with torch.no_grad():
        block.attn.qkv.weight.mul_(50)
    x = torch.randn(1, 8, 32, 32)
    with torch.no_grad():
        exact = block(x)
        with torch.autocast('cpu', dtype=torch.float16):
            q, k = (block.attn.qkv_part(block.norm1(x), p) for p in (0, 1))
            assert q.dtype == torch.float16
            assert (q.float()**2).sum(dim=(2, 3)).max() > 65504
            terms = restormer_kernels.gram_terms(q, k)
            low = block(x)
    assert all(t.dtype == torch.float32 for t in terms)
    assert torch.isfinite(low).all()
    torch.testing.assert_close(low.float(), exact,
                               atol=0.05 * exact.abs().max().item(), rtol=0)
