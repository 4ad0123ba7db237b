"""The fast computation of the blocks (:mod:`.restormer_fast`) gives the
plain formulas of ``tdfusion_mm.testing.eager_reference`` (normalised q/k
copies, chunked convolutions, explicit layer norm, contiguous NCHW): with
channels-last memory, the attention's normalisation folded into its Gram
matrix, the output projection folded into the attention matrix, in place
without a graph, and over row bands in inference."""
import pytest
import torch

from tdfusion_mm.models.fusion_backbones import ReFusion
from tdfusion_mm.models.layers import (CrossModalFusion, TransformerBlock,
                                       restormer_fast)
from tdfusion_mm.testing import refusion_forward
from tdfusion_mm.testing import transformer_block as eager_block


def perturbed(net, dtype=torch.float32, seed=0):
    """Non-default norms and temperatures, so every parameter matters."""
    torch.manual_seed(seed)
    net = net.to(dtype)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net


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


@pytest.mark.parametrize('band_pixels', [1, 40, 150, 53 * 36])
def test_row_bands_match_eager(band_pixels, monkeypatch):
    """Inference over row bands (one-row halos, Gram sums accumulated over
    bands) gives the whole-image result; bands of one row up to one band
    short of the image, odd sizes, batch 2."""
    monkeypatch.setattr(restormer_fast, 'MIN_BAND_ROWS', 1)
    net = perturbed(ReFusion(band_pixels=band_pixels)).eval()
    ir, vis = torch.rand(2, 1, 37, 53), torch.rand(2, 1, 37, 53)
    with torch.no_grad():
        ref = refusion_forward(net, ir, vis)
    banded = []
    for name in ('_transformer_block_image', '_cross_modal_fusion_image'):
        one_image = getattr(restormer_fast, name)

        def spy(module, *args, one_image=one_image):
            banded.append(type(module).__name__)
            return one_image(module, *args)

        monkeypatch.setattr(restormer_fast, name, spy)
    with torch.inference_mode():
        fast = net(ir, vis)
    assert sorted(set(banded)) == ['CrossModalFusion', 'TransformerBlock']
    # 2 + 2 encoder blocks, FM, 2 decoder blocks; for each image
    assert len(banded) == 7 * 2
    assert (fast - ref).abs().max().item() <= 1e-5
    banded.clear()
    net(ir, vis)  # a recorded graph never takes the band path
    with torch.no_grad():
        net.train()(ir, vis)  # nor does training mode
    assert banded == []


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


@pytest.fixture
def threads():
    """Set torch's thread count for a test, restored after it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def test_rows_per_band_have_a_floor(threads):
    """A tiny band_pixels gives bands of MIN_BAND_ROWS rows or more, not of
    one; the bands have equal heights."""
    threads(1)
    rows = restormer_fast.MIN_BAND_ROWS
    h, w = 3 * rows + 5, 53
    block = TransformerBlock(16, 8, band_pixels=1).eval()
    x = torch.zeros(1, 16, h, w)
    with torch.no_grad():
        bands = restormer_fast.row_bands(block, x)
        assert len(bands) == 3 and bands[0][0] == 0 and bands[-1][1] == h
        heights = [r1 - r0 for r0, r1 in bands]
        assert min(heights) >= rows and max(heights) - min(heights) <= 1
        assert all(a[1] == b[0] for a, b in zip(bands, bands[1:]))
        block.band_pixels = w * (h // 2 + 1)  # two bands
        assert restormer_fast.row_bands(block, x) == [(0, h // 2),
                                                      (h // 2, h)]
        block.band_pixels = 1
        assert restormer_fast.row_bands(block, x[:, :, :2 * rows - 1]) == []


def test_band_count_is_a_multiple_of_the_threads(threads):
    """More bands than threads: their number rounds down to a multiple of
    the threads (taller bands), so that no thread idles at the end."""
    rows = restormer_fast.MIN_BAND_ROWS
    block = TransformerBlock(16, 8, band_pixels=1).eval()
    x = torch.zeros(1, 16, 7 * rows, 5)
    with torch.no_grad():
        for n, expected in ((1, 7), (2, 6), (3, 6), (4, 4), (8, 7)):
            threads(n)
            assert len(restormer_fast.row_bands(block, x)) == expected, n


def test_fast_block_matches_eager_any_layout(monkeypatch):
    monkeypatch.setattr(restormer_fast, 'MIN_BAND_ROWS', 1)
    block = perturbed(TransformerBlock(32, 8)).eval()
    x = torch.randn(1, 32, 19, 23)
    ref = eager_block(block, x)
    for y in (x, x.contiguous(memory_format=torch.channels_last)):
        with torch.no_grad():
            assert (block(y) - ref).abs().max().item() <= 1e-5
    x_before = x.clone()
    for band_pixels in (0, 23 * 4):  # whole image, bands of 4 rows
        block.band_pixels = band_pixels
        with torch.inference_mode():
            assert (block(x) - ref).abs().max().item() <= 1e-5
        assert torch.equal(x, x_before), 'the block changed its input'


@pytest.mark.parametrize('rows', [1, 2, 5, 10])
@pytest.mark.parametrize('threads', [1, 2])
def test_bands_give_the_whole_image_result(rows, threads, monkeypatch):
    """Each block directly: one-row bands up to one band short of an odd
    image, batch 2, channels-last input, bands run on 1 or 2 threads (the
    caller's thread count is restored)."""
    monkeypatch.setattr(restormer_fast, 'MIN_BAND_ROWS', 1)
    block = perturbed(TransformerBlock(16, 4)).eval()
    fusion = perturbed(CrossModalFusion(8, 4), seed=1).eval()
    shape = (2, 16, 11, 7)
    x = torch.randn(shape).contiguous(memory_format=torch.channels_last)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        outputs = []
        for band_pixels in (0, rows * 7):
            block.band_pixels = fusion.band_pixels = band_pixels
            with torch.inference_mode():
                assert bool(restormer_fast.row_bands(block, x)) == (
                    band_pixels > 0)
                outputs.append((block(x), fusion(x[:, :8], x[:, 8:])))
        assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)
    assert restormer_fast.row_bands(block, x) == []  # grad mode: no bands
    (whole_block, whole_fusion), (band_block, band_fusion) = outputs
    assert band_block.shape == shape and band_fusion.shape == shape
    torch.testing.assert_close(band_block, whole_block, atol=1e-5, rtol=0)
    torch.testing.assert_close(band_fusion, whole_fusion, atol=1e-5, rtol=0)


def test_only_band_work_calls_onednn_directly(monkeypatch):
    """Bands call oneDNN directly (they run single-threaded, where PyTorch
    would pick its im2col path for 1x1); the whole image, training and
    forward-mode products keep ``F.conv2d``."""
    calls = []
    direct = torch.mkldnn_convolution
    monkeypatch.setattr(torch, 'mkldnn_convolution',
                        lambda *a: calls.append(1) or direct(*a))
    monkeypatch.setattr(restormer_fast, 'MIN_BAND_ROWS', 1)
    block = perturbed(TransformerBlock(16, 8, band_pixels=0)).eval()
    x = torch.randn(1, 16, 9, 11).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        whole = block(x)
        assert calls == []
        block.band_pixels = 3 * 11
        banded = block(x)
    assert calls and (banded - whole).abs().max().item() <= 1e-5
    calls.clear()
    block.train()
    tangent = torch.randn_like(x)
    out, jvp = torch.func.jvp(block, (x, ), (tangent, ))
    out.sum().backward()
    assert calls == [] and torch.isfinite(jvp).all()
    assert block.ffn.project_out.weight.grad is not None


@pytest.mark.parametrize('threads', [1, 2])
def test_bands_under_autocast_give_the_whole_image_result(threads):
    """Bands on their threads run under the caller's autocast (autocast
    is per thread: before, a band got float32 weights and a bfloat16
    input)."""
    net = perturbed(ReFusion(dim=8, num_blocks=1, num_heads=2)).eval()
    ir, vis = torch.rand(1, 1, 130, 24), torch.rand(1, 1, 130, 24)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        outputs = []
        for band_pixels in (0, 64 * 24):
            net.apply(lambda m: setattr(m, 'band_pixels', band_pixels)
                      if hasattr(m, 'band_pixels') else None)
            with torch.inference_mode(), torch.autocast(
                    'cpu', dtype=torch.bfloat16):
                assert bool(restormer_fast.row_bands(
                    net.encoder1[0], torch.empty(1, 8, 130, 24))) == (
                        band_pixels > 0)
                outputs.append(net(ir, vis))
    finally:
        torch.set_num_threads(before)
    with torch.inference_mode():
        exact = net(ir, vis)
    whole, banded = outputs
    assert torch.isfinite(banded).all()
    torch.testing.assert_close(banded, whole, atol=1e-2, rtol=0)
    torch.testing.assert_close(banded.float(), exact, atol=1e-2, rtol=0)


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
            terms = restormer_fast.gram_terms(q, k)
            low = block(x)
    assert all(t.dtype == torch.float32 for t in terms)
    assert torch.isfinite(low).all()
    torch.testing.assert_close(low.float(), exact,
                               atol=0.05 * exact.abs().max().item(), rtol=0)
