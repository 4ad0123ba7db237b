"""Inference over row bands (:mod:`.banded_forward`: one-row halos, Gram
sums accumulated over bands) gives the whole-image result and the plain
formulas of ``tdfusion_mm.testing.eager_reference``, in any memory layout,
on one or two threads, under autocast."""
import pytest
import torch
from helpers import perturbed

from tdfusion_mm.models.fusion_backbones import ReFusion
from tdfusion_mm.models.layers import (CrossModalFusion, TransformerBlock,
                                       banded_forward, row_banding)
from tdfusion_mm.testing import refusion_forward
from tdfusion_mm.testing import transformer_block as eager_block


@pytest.mark.parametrize('band_pixels', [1, 40, 150, 53 * 36])
def test_row_bands_match_eager(band_pixels, monkeypatch):
    """Inference over row bands (one-row halos, Gram sums accumulated over
    bands) gives the whole-image result; bands of one row up to one band
    short of the image, odd sizes, batch 2."""
    monkeypatch.setattr(row_banding, 'MIN_BAND_ROWS', 1)
    net = perturbed(ReFusion(band_pixels=band_pixels)).eval()
    ir, vis = torch.rand(2, 1, 37, 53), torch.rand(2, 1, 37, 53)
    with torch.no_grad():
        ref = refusion_forward(net, ir, vis)
    banded = []
    for name in ('_transformer_block_image', '_cross_modal_fusion_image'):
        one_image = getattr(banded_forward, name)

        def spy(module, *args, one_image=one_image):
            banded.append(type(module).__name__)
            return one_image(module, *args)

        monkeypatch.setattr(banded_forward, name, spy)
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


def test_fast_block_matches_eager_any_layout(monkeypatch):
    monkeypatch.setattr(row_banding, 'MIN_BAND_ROWS', 1)
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
    monkeypatch.setattr(row_banding, 'MIN_BAND_ROWS', 1)
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
                assert bool(row_banding.row_bands(block, x)) == (
                    band_pixels > 0)
                outputs.append((block(x), fusion(x[:, :8], x[:, 8:])))
        assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)
    assert row_banding.row_bands(block, x) == []  # grad mode: no bands
    (whole_block, whole_fusion), (band_block, band_fusion) = outputs
    assert band_block.shape == shape and band_fusion.shape == shape
    torch.testing.assert_close(band_block, whole_block, atol=1e-5, rtol=0)
    torch.testing.assert_close(band_fusion, whole_fusion, atol=1e-5, rtol=0)


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
                assert bool(row_banding.row_bands(
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
