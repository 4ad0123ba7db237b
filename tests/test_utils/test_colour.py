import cv2
import numpy as np
import pytest
import torch

from tdfusion_mm.utils import (from_ycrcb, luma, luma_array, merge_chroma,
                               restore_colour, restore_colour_array, to_ycrcb)


def _random_bgr(seed, h=17, w=23):
    return np.random.default_rng(seed).integers(
        0, 256, (h, w, 3), dtype=np.uint8)


def _to_tensor(img):
    """(H, W, C) array -> (1, C, H, W) float tensor in [0, 1]."""
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0,
                                                                  1)[None]


def _to_array(t):
    return t[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize('channel_order', ['bgr', 'rgb'])
def test_to_ycrcb_matches_opencv(channel_order):
    bgr = _random_bgr(0)
    ref = cv2.cvtColor(bgr.astype(np.float32) / 255, cv2.COLOR_BGR2YCrCb)
    src = bgr if channel_order == 'bgr' else bgr[..., ::-1].copy()
    ycrcb = _to_array(to_ycrcb(_to_tensor(src), channel_order))
    np.testing.assert_allclose(ycrcb, ref, atol=1e-5, rtol=0)
    # OpenCV's fixed-point uint8 path (chroma delta 128, not 127.5) agrees
    # within one grey level.
    ref8 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    assert np.abs(ycrcb * 255 + [0, 0.5, 0.5] - ref8).max() <= 1.0
    np.testing.assert_allclose(
        _to_array(luma(_to_tensor(src), channel_order))[..., 0],
        ref[..., 0],
        atol=1e-5,
        rtol=0)


def test_channel_order_is_used():
    bgr = _random_bgr(1)
    t = _to_tensor(bgr)
    assert not torch.allclose(to_ycrcb(t, 'bgr'), to_ycrcb(t, 'rgb'))
    with pytest.raises(ValueError):
        to_ycrcb(t, 'bgra')


@pytest.mark.parametrize('channel_order', ['bgr', 'rgb'])
def test_round_trip(channel_order):
    img = _to_tensor(_random_bgr(2)).double()
    back = from_ycrcb(to_ycrcb(img, channel_order), channel_order)
    torch.testing.assert_close(back, img, atol=1e-10, rtol=0)
    # Close to OpenCV's inverse, whose coefficients are rounded.
    ycrcb = _to_array(to_ycrcb(img.float()))
    ref = cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR)
    np.testing.assert_allclose(
        _to_array(from_ycrcb(torch.from_numpy(ycrcb).permute(2, 0, 1)[None])),
        ref,
        atol=1e-3,
        rtol=0)


def test_luma_of_grey_is_identity():
    grey = torch.rand(2, 1, 5, 6)
    assert luma(grey) is grey


def test_restore_colour_reproduces_visible():
    vis = _to_tensor(_random_bgr(3))
    out = restore_colour(luma(vis), vis)
    assert out.shape == vis.shape
    torch.testing.assert_close(out, vis, atol=1e-5, rtol=0)
    # A different luma changes the result.
    other = restore_colour(luma(vis) * 0.5, vis)
    assert (other - vis).abs().max() > 0.1


def test_restore_colour_grey_stays_grey():
    fused = torch.rand(2, 1, 8, 9)
    grey = torch.rand(2, 1, 8, 9)
    out = restore_colour(fused, grey)
    assert out.shape == (2, 1, 8, 9)
    torch.testing.assert_close(out, fused)

    neutral = grey.expand(-1, 3, -1, -1)
    out = restore_colour(fused, neutral)
    assert out.shape == (2, 3, 8, 9)
    for c in range(3):
        torch.testing.assert_close(out[:, c:c + 1], fused, atol=1e-6, rtol=0)


def test_restore_colour_clamps():
    vis = torch.zeros(1, 3, 4, 4)
    vis[:, 2] = 1.  # saturated red in BGR
    out = restore_colour(torch.ones(1, 1, 4, 4), vis)
    assert out.min() >= 0 and out.max() <= 1
    assert torch.all(out[:, 2] == 1)


def test_restore_colour_gradient():
    gen = torch.Generator().manual_seed(0)
    fused = (0.4 +
             0.2 * torch.rand(1, 1, 3, 4, generator=gen, dtype=torch.float64)
             ).requires_grad_()
    vis = (0.45 +
           0.1 * torch.rand(1, 3, 3, 4, generator=gen, dtype=torch.float64)
           ).requires_grad_()
    assert torch.autograd.gradcheck(restore_colour, (fused, vis))
    restore_colour(fused, vis).sum().backward()
    # Each output channel moves one for one with the luma.
    torch.testing.assert_close(fused.grad, torch.full_like(fused, 3.))


def test_merge_chroma():
    gen = torch.Generator().manual_seed(1)
    c_a = torch.rand(2, 2, 5, 5, generator=gen)
    neutral = torch.full_like(c_a, 0.5)
    torch.testing.assert_close(merge_chroma(c_a, neutral), c_a)
    torch.testing.assert_close(merge_chroma(neutral, c_a), c_a)
    torch.testing.assert_close(merge_chroma(c_a, c_a), c_a)
    assert torch.equal(merge_chroma(neutral, neutral), neutral)
    # The more saturated source weighs more: 0.9 (w 0.4), 0.4 (w 0.1).
    out = merge_chroma(
        torch.full((1, 2, 1, 1), 0.9), torch.full((1, 2, 1, 1), 0.4))
    torch.testing.assert_close(out, torch.full_like(out, 0.5 + 0.3))

    c_b = torch.rand(2, 2, 5, 5, generator=gen)
    out = merge_chroma(c_a, c_b)
    assert torch.all(out >= torch.minimum(c_a, c_b) - 1e-6)
    assert torch.all(out <= torch.maximum(c_a, c_b) + 1e-6)
    grad_a = (0.6 +
              0.3 * torch.rand(1, 2, 2, 2, dtype=torch.float64, generator=gen)
              ).requires_grad_()
    grad_b = (0.1 +
              0.3 * torch.rand(1, 2, 2, 2, dtype=torch.float64, generator=gen)
              ).requires_grad_()
    assert torch.autograd.gradcheck(merge_chroma, (grad_a, grad_b))


def test_restore_colour_with_colour_ir():
    vis = _to_tensor(_random_bgr(4))
    fused = luma(vis)
    neutral_ir = luma(vis).expand(-1, 3, -1, -1)
    torch.testing.assert_close(
        restore_colour(fused, vis, ir=neutral_ir), vis, atol=1e-5, rtol=0)
    # A grey visible image takes the colour infrared image's chroma.
    ir = _to_tensor(_random_bgr(5))
    grey = luma(vis)
    torch.testing.assert_close(
        restore_colour(luma(ir), grey, ir=ir), ir, atol=1e-5, rtol=0)


def test_luma_array():
    bgr = _random_bgr(6)
    ref = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb)[..., 0]
    y = luma_array(bgr)
    assert y.dtype == np.uint8 and y.shape == bgr.shape[:2]
    np.testing.assert_array_equal(y, ref)
    y16 = luma_array(bgr.astype(np.uint16) * 257)
    assert y16.dtype == np.uint16
    assert np.abs(y16.astype(float) / 257 - ref).max() <= 1
    yf = luma_array(bgr.astype(np.float64) / 255)
    np.testing.assert_allclose(
        yf, _to_array(luma(_to_tensor(bgr)))[..., 0], atol=1e-5)
    np.testing.assert_array_equal(luma_array(ref[..., None]), ref)


def test_restore_colour_array_matches_torch():
    vis = _random_bgr(7)
    fused = np.random.default_rng(8).random(vis.shape[:2]).astype(np.float32)
    out = restore_colour_array(fused, vis)
    assert out.dtype == np.uint8 and out.shape == vis.shape
    ref = restore_colour(torch.from_numpy(fused)[None, None], _to_tensor(vis))
    ref = np.rint(_to_array(ref) * 255)
    diff = np.abs(out.astype(np.float32) - ref)
    assert diff.max() <= 1 and diff.mean() < 0.05
    # Integer luma is scaled like the image: uint8 and uint16 agree.
    y8 = luma_array(vis)
    np.testing.assert_array_equal(
        restore_colour_array(y8, vis),
        restore_colour_array(y8.astype(np.uint16) * 257, vis))
    assert np.abs(restore_colour_array(y8, vis).astype(int) - vis).max() <= 2


def test_restore_colour_array_grey():
    fused = np.random.default_rng(9).random((6, 7)).astype(np.float32)
    grey = _random_bgr(10, 6, 7)[..., 0]
    out = restore_colour_array(fused, grey)
    assert out.shape == (6, 7) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.rint(fused * 255))
    neutral = np.repeat(grey[..., None], 3, axis=2)
    out = restore_colour_array(fused, neutral)
    assert out.shape == (6, 7, 3)
    for c in range(3):
        assert np.abs(out[..., c].astype(int) - np.rint(fused * 255)).max() \
            <= 1
    with pytest.raises(ValueError):
        restore_colour_array(fused[:5], grey)
