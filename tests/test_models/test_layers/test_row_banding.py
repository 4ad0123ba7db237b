"""Row bands (:mod:`.row_banding`): how an image is cut into bands, and the
bands' direct oneDNN convolutions."""
import pytest
import torch
from helpers import perturbed

from tdfusion_mm.models.layers import TransformerBlock, row_banding


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
    rows = row_banding.MIN_BAND_ROWS
    h, w = 3 * rows + 5, 53
    block = TransformerBlock(16, 8, band_pixels=1).eval()
    x = torch.zeros(1, 16, h, w)
    with torch.no_grad():
        bands = row_banding.row_bands(block, x)
        assert len(bands) == 3 and bands[0][0] == 0 and bands[-1][1] == h
        heights = [r1 - r0 for r0, r1 in bands]
        assert min(heights) >= rows and max(heights) - min(heights) <= 1
        assert all(a[1] == b[0] for a, b in zip(bands, bands[1:]))
        block.band_pixels = w * (h // 2 + 1)  # two bands
        assert row_banding.row_bands(block, x) == [(0, h // 2),
                                                      (h // 2, h)]
        block.band_pixels = 1
        assert row_banding.row_bands(block, x[:, :, :2 * rows - 1]) == []


def test_band_count_is_a_multiple_of_the_threads(threads):
    """More bands than threads: their number rounds down to a multiple of
    the threads (taller bands), so that no thread idles at the end."""
    rows = row_banding.MIN_BAND_ROWS
    block = TransformerBlock(16, 8, band_pixels=1).eval()
    x = torch.zeros(1, 16, 7 * rows, 5)
    with torch.no_grad():
        for n, expected in ((1, 7), (2, 6), (3, 6), (4, 4), (8, 7)):
            threads(n)
            assert len(row_banding.row_bands(block, x)) == expected, n


def test_only_band_work_calls_onednn_directly(monkeypatch):
    """Bands call oneDNN directly (they run single-threaded, where PyTorch
    would pick its im2col path for 1x1); the whole image, training and
    forward-mode products keep ``F.conv2d``."""
    calls = []
    direct = torch.mkldnn_convolution
    monkeypatch.setattr(torch, 'mkldnn_convolution',
                        lambda *a: calls.append(1) or direct(*a))
    monkeypatch.setattr(row_banding, 'MIN_BAND_ROWS', 1)
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
