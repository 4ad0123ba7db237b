"""OpenCV's YCrCb in torch and numpy: the formulas, colour restoration, and
torch against numpy to one grey level."""
import cv2
import numpy as np
import pytest
import torch

from tdfusion_mm.utils import (from_ycrcb, luma, luma_array, restore_colour,
                               restore_colour_array, to_ycrcb)


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


def test_to_ycrcb_matches_opencv():
    bgr = _random_bgr(0)
    ref = cv2.cvtColor(bgr.astype(np.float32) / 255, cv2.COLOR_BGR2YCrCb)
    ycrcb = _to_array(to_ycrcb(_to_tensor(bgr)))
    np.testing.assert_allclose(ycrcb, ref, atol=1e-5, rtol=0)
    # OpenCV's fixed-point uint8 path (chroma delta 128, not 127.5) agrees
    # within one grey level.
    ref8 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    assert np.abs(ycrcb * 255 + [0, 0.5, 0.5] - ref8).max() <= 1.0
    np.testing.assert_allclose(
        _to_array(luma(_to_tensor(bgr)))[..., 0], ref[..., 0], atol=1e-5,
        rtol=0)
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        to_ycrcb(torch.rand(1, 4, 2, 2))


def test_from_ycrcb_matches_opencv():
    """The exact inverse: within OpenCV's rounding of its coefficients."""
    ycrcb = cv2.cvtColor(_random_bgr(2).astype(np.float32) / 255,
                         cv2.COLOR_BGR2YCrCb)
    ycrcb[..., 0] = np.random.default_rng(3).random(ycrcb.shape[:2])
    ref = cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR)
    back = _to_array(from_ycrcb(torch.from_numpy(ycrcb).permute(2, 0,
                                                                1)[None]))
    np.testing.assert_allclose(back, ref, atol=5e-4, rtol=0)
    # A round trip is lossless.
    img = _to_tensor(_random_bgr(4)).double()
    torch.testing.assert_close(from_ycrcb(to_ycrcb(img)), img, atol=1e-9,
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
    with pytest.raises(ValueError, match='fused_y'):
        restore_colour(fused.expand(-1, 3, -1, -1), neutral)


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


def _generated_pairs(demo_root):
    """Demo scenes (fused luma: the mean of infrared and visible luma) and
    random images of odd sizes (random fused luma)."""
    root = f'{demo_root}/m3fd'
    for name in ('00000', '00003', '00007'):
        vis = cv2.imread(f'{root}/Vis/{name}.png')
        ir = cv2.imread(f'{root}/Ir/{name}.png', cv2.IMREAD_GRAYSCALE)
        yield (ir / np.float32(255) + luma_array(vis / np.float32(255))) / 2, \
            vis
    rng = np.random.default_rng(11)
    for h, w in ((33, 47), (101, 67), (64, 80)):
        yield rng.random((h, w), dtype=np.float32), \
            rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_torch_and_numpy_agree_to_one_grey_level(demo_root):
    count = 0
    for fused, vis in _generated_pairs(demo_root):
        out = restore_colour_array(fused, vis)
        ref = restore_colour(torch.from_numpy(fused)[None, None],
                             _to_tensor(vis))
        ref = np.rint(_to_array(ref) * 255)
        diff = np.abs(out.astype(np.float32) - ref)
        assert diff.max() <= 1, diff.max()
        # OpenCV's rounded inverse moves a few values by one level.
        assert (diff > 0).mean() < 0.05, (diff > 0).mean()
        y = np.rint(luma_array(vis / np.float32(255)) * 255)
        y_torch = np.rint(_to_array(luma(_to_tensor(vis)))[..., 0] * 255)
        assert np.abs(y - y_torch).max() <= 1
        count += 1
    assert count == 6


def test_restore_colour_array_dtypes_and_grey():
    vis = _random_bgr(7)
    y8 = luma_array(vis)
    out = restore_colour_array(y8, vis)
    assert out.dtype == np.uint8 and out.shape == vis.shape
    # Integer luma is scaled like the image: uint8 and uint16 agree.
    np.testing.assert_array_equal(
        out, restore_colour_array(y8.astype(np.uint16) * 257, vis))
    assert np.abs(out.astype(int) - vis).max() <= 2

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
    with pytest.raises(ValueError, match='differ in size'):
        restore_colour_array(fused[:5], grey)
