"""Each fusion metric against a hand-computed case or a second computation.

The second computations are written independently of the library: plain
loops, scipy's 2-D convolutions and scikit-image's SSIM/PSNR.
"""
import math

import numpy as np
import pytest
from scipy.signal import convolve2d
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from tdfusion_mm.evaluation.functional import (METRIC_NAMES, ag, en,
                                               fusion_metrics, mi, psnr, qabf,
                                               scd, sd, sf, ssim, ssim_pair,
                                               to_uint8, vif, vifp)


def random_triple(shape=(64, 64), seed=0):
    """Smooth-ish random 8-bit images, F partly made of A and B."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, shape).astype(np.float64)
    b = rng.integers(0, 256, shape).astype(np.float64)
    a = convolve2d(a, np.ones((3, 3)) / 9, mode='same', boundary='symm')
    b = convolve2d(b, np.ones((3, 3)) / 9, mode='same', boundary='symm')
    f = 0.6 * a + 0.4 * b + rng.normal(0, 4, shape)
    return tuple(np.clip(np.rint(x), 0, 255).astype(np.uint8)
                 for x in (f, a, b))


# ------------------------------------------------------------------ helpers
def test_to_uint8():
    assert to_uint8(np.array([0., 0.2, 1., 1.5, -1.])).tolist() == \
        [0, 51, 255, 255, 0]
    assert to_uint8(np.array([0, 257, 65535], np.uint16)).tolist() == \
        [0, 1, 255]
    x = np.array([7], np.uint8)
    assert to_uint8(x) is x


def test_fusion_metrics_names_and_errors():
    f, a, b = random_triple()
    out = fusion_metrics(f, a, b)
    assert tuple(out) == METRIC_NAMES
    assert all(np.isfinite(v) for v in out.values())
    assert list(fusion_metrics(f, a, b, ['SSIM', 'EN'])) == ['SSIM', 'EN']
    with pytest.raises(KeyError, match='unknown'):
        fusion_metrics(f, a, b, ['FMI'])
    with pytest.raises(ValueError, match='reduce'):
        fusion_metrics(f, a, b, reduce='max')
    with pytest.raises(ValueError, match='one shape'):
        fusion_metrics(f, a[:-1], b)
    with pytest.raises(ValueError, match='2-D'):
        en(np.zeros((2, 2, 3)))


# --------------------------------------------------------------- fused only
def test_en_hand_cases_and_loop():
    assert en(np.full((4, 4), 9, np.uint8)) == 0
    assert en(np.array([[0, 255], [0, 255]], np.uint8)) == pytest.approx(1)
    assert en(np.arange(256, dtype=np.uint8).reshape(16, 16)) == \
        pytest.approx(8)
    img = random_triple()[0]
    counts = {}
    for v in img.ravel().tolist():
        counts[v] = counts.get(v, 0) + 1
    expected = -sum(c / img.size * math.log2(c / img.size)
                    for c in counts.values())
    assert en(img) == pytest.approx(expected, abs=1e-12)


def test_sd_is_population():
    assert sd(np.array([[0, 2], [0, 2]], np.uint8)) == pytest.approx(1)


def test_sf_hand_case_and_loop():
    ramp = np.tile(np.arange(5, dtype=np.uint8), (4, 1))  # columns 0..4
    assert sf(ramp) == pytest.approx(1)  # RF^2 = 1, CF^2 = 0
    img = random_triple((9, 7))[0].astype(float)
    h, w = img.shape
    rf = sum((img[i, j] - img[i, j - 1])**2
             for i in range(h) for j in range(1, w)) / (h * (w - 1))
    cf = sum((img[i, j] - img[i - 1, j])**2
             for i in range(1, h) for j in range(w)) / ((h - 1) * w)
    assert sf(img) == pytest.approx(math.sqrt(rf + cf), rel=1e-12)


def test_ag_hand_case_and_loop():
    ramp = np.tile(np.arange(0, 10, 2, dtype=np.uint8), (4, 1))
    assert ag(ramp) == pytest.approx(math.sqrt(2))  # Gx = 2, Gy = 0
    img = random_triple((6, 8))[0].astype(float)
    h, w = img.shape

    def diff(get, i, n):
        if i == 0:
            return get(1) - get(0)
        if i == n - 1:
            return get(n - 1) - get(n - 2)
        return (get(i + 1) - get(i - 1)) / 2

    total = 0.0
    for i in range(h):
        for j in range(w):
            gx = diff(lambda k: img[i, k], j, w)
            gy = diff(lambda k: img[k, j], i, h)
            total += math.sqrt((gx * gx + gy * gy) / 2)
    assert ag(img) == pytest.approx(total / (h * w), rel=1e-12)


# ------------------------------------------------------------- with sources
def naive_mi(x, y):
    n = x.size
    joint, px, py = {}, {}, {}
    for u, v in zip(x.ravel().tolist(), y.ravel().tolist()):
        joint[u, v] = joint.get((u, v), 0) + 1
        px[u] = px.get(u, 0) + 1
        py[v] = py.get(v, 0) + 1
    return sum(c / n * math.log2((c / n) / (px[u] / n * py[v] / n))
               for (u, v), c in joint.items())


def test_mi_hand_case_and_loop():
    a = np.array([[0, 255], [0, 255]], np.uint8)
    b = np.array([[0, 0], [255, 255]], np.uint8)  # independent of a
    # F = A: MI(F, A) = H(A) = 1 bit, MI(F, B) = 0; in bits, summed.
    assert mi(a, a, b) == pytest.approx(1)
    full = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert mi(full, full, full) == pytest.approx(16)
    f, a, b = random_triple((16, 16))
    assert mi(f, a, b) == pytest.approx(naive_mi(f, a) + naive_mi(f, b),
                                        abs=1e-9)


def test_scd_hand_cases_and_corrcoef():
    _, a, b = random_triple(seed=1)
    a, b = a.astype(float), b.astype(float)
    # F = A + B: F - B = A and F - A = B, both correlations are 1.
    assert scd(a + b, a, b) == pytest.approx(2)
    # A = B and F = 0: F - B = -A and F - A = -A, both correlations are -1
    # (catches sign errors).
    assert scd(np.zeros_like(a), a, a) == pytest.approx(-2)
    assert scd(np.full_like(a, 7), a, b) == pytest.approx(
        -2 * np.corrcoef(a.ravel(), b.ravel())[0, 1])
    f, a, b = (x.astype(float) for x in random_triple(seed=2))
    expected = (np.corrcoef((f - b).ravel(), a.ravel())[0, 1] +
                np.corrcoef((f - a).ravel(), b.ravel())[0, 1])
    assert scd(f, a, b) == pytest.approx(expected, abs=1e-12)


def matlab_gaussian(n, sigma):
    """fspecial('gaussian', n, sigma) written out in 2-D."""
    half = (n - 1) / 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def naive_vifp(ref, dist):
    """Sheikh & Bovik's vifp_mscale with scipy's 2-D convolutions and an
    element-by-element pass for the corrections."""
    ref, dist = ref.astype(float), dist.astype(float)
    num = den = 0.0
    for scale in range(1, 5):
        n = 2**(4 - scale + 1) + 1
        win = matlab_gaussian(n, n / 5)

        def filt(x):
            if min(x.shape) < n:  # MATLAB's filter2 'valid': empty
                return np.zeros([max(k - n + 1, 0) for k in x.shape])
            return convolve2d(x, np.rot90(win, 2), mode='valid')

        if scale > 1:
            ref, dist = filt(ref)[::2, ::2], filt(dist)[::2, ::2]
        mu1, mu2 = filt(ref), filt(dist)
        s1 = filt(ref * ref) - mu1 * mu1
        s2 = filt(dist * dist) - mu2 * mu2
        s12 = filt(ref * dist) - mu1 * mu2
        for i in range(s1.shape[0]):
            for j in range(s1.shape[1]):
                v1, v2, v12 = max(s1[i, j], 0), max(s2[i, j], 0), s12[i, j]
                g = v12 / (v1 + 1e-10)
                sv = v2 - g * v12
                if v1 < 1e-10:
                    g, sv, v1 = 0, v2, 0
                if v2 < 1e-10:
                    g, sv = 0, 0
                if g < 0:
                    sv, g = v2, 0
                sv = max(sv, 1e-10)
                num += math.log10(1 + g * g * v1 / (sv + 2))
                den += math.log10(1 + v1 / 2)
    return num / den


def test_vifp_against_naive_and_properties():
    f, a, b = random_triple()
    assert vifp(a, f) == pytest.approx(naive_vifp(a, f), rel=1e-9)
    assert vifp(b, f) == pytest.approx(naive_vifp(b, f), rel=1e-9)
    # Too small for the 4th scale, which then adds nothing.
    small_f, small_a, _ = random_triple((40, 48), seed=6)
    assert vifp(small_a, small_f) == pytest.approx(
        naive_vifp(small_a, small_f), rel=1e-9)
    af = a.astype(float)
    assert vifp(af, af) == pytest.approx(1, abs=1e-6)
    assert vifp(af, af + 20) == pytest.approx(1, abs=1e-6)  # mean-free
    assert vifp(af, 255 - af) == 0  # anti-correlated: g < 0 -> 0
    assert vifp(af, 0.5 * af) < 1 < vifp(af, 1.5 * af)  # contrast
    assert vifp(np.full((64, 64), 3.0), af) == 1  # flat reference: 0 / 0


def test_vif_reduce():
    f, a, b = random_triple()
    mean = vif(f, a, b)
    assert mean == pytest.approx((naive_vifp(a, f) + naive_vifp(b, f)) / 2,
                                 rel=1e-9)
    assert vif(f, a, b, reduce='sum') == pytest.approx(2 * mean)


def naive_qabf(f, a, b):
    """Xydeas & Petrovic per pixel, Sobel by scipy's convolution."""
    hx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)
    hy = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], float)

    def edges(x):
        sx = convolve2d(x.astype(float), hx, mode='same')
        sy = convolve2d(x.astype(float), hy, mode='same')
        return sx, sy

    def q(gs, als, gf, alf):
        if gs == 0 and gf == 0:
            g = 0.0
        else:
            g = min(gs, gf) / max(gs, gf)
        ang = 1 - abs(als - alf) / (math.pi / 2)
        return (0.9994 / (1 + math.exp(-15 * (g - 0.5))) * 0.9879 /
                (1 + math.exp(-22 * (ang - 0.8))))

    (fx, fy), (ax, ay), (bx, by) = edges(f), edges(a), edges(b)
    num = den = 0.0
    for i in range(f.shape[0]):
        for j in range(f.shape[1]):
            vals = []
            for sx, sy in ((fx, fy), (ax, ay), (bx, by)):
                x, y = sx[i, j], sy[i, j]
                vals.append((math.hypot(x, y),
                             math.pi / 2 if x == 0 else math.atan(y / x)))
            (gf, alf), (ga, ala), (gb, alb) = vals
            num += q(ga, ala, gf, alf) * ga + q(gb, alb, gf, alf) * gb
            den += ga + gb
    return num / den


def test_qabf_against_naive_and_hand_case():
    f, a, b = random_triple((20, 24), seed=3)
    assert qabf(f, a, b) == pytest.approx(naive_qabf(f, a, b), rel=1e-9)
    # F = A = B: G = A = 1 everywhere there is an edge, so Qabf is the
    # product of the two sigmoids at 1.
    expected = (0.9994 / (1 + math.exp(-15 * 0.5)) * 0.9879 /
                (1 + math.exp(-22 * 0.2)))
    assert qabf(a, a, a) == pytest.approx(expected, rel=1e-12)
    # Vertical stripes fused into horizontal ones: orientations differ by
    # pi/2 (A^SF = 0), so the edges are lost except on the zero-padded
    # border.
    stripes = np.tile(np.arange(0, 256, 2, dtype=float) % 64, (128, 1))
    assert qabf(stripes.T, stripes, stripes) < 0.1
    assert qabf(np.zeros((8, 8)), np.zeros((8, 8)), np.zeros((8, 8))) == 0


@pytest.mark.parametrize('window,kwargs', [
    ('gaussian', dict(gaussian_weights=True, sigma=1.5,
                      use_sample_covariance=False)),
    ('uniform', dict()),
])
def test_ssim_against_skimage(window, kwargs):
    f, a, b = random_triple((48, 40), seed=4)
    ref_a = structural_similarity(f, a, data_range=255, **kwargs)
    ref_b = structural_similarity(f, b, data_range=255, **kwargs)
    assert ssim_pair(f, a, window) == pytest.approx(ref_a, abs=1e-10)
    assert ssim(f, a, b, window=window) == pytest.approx(
        (ref_a + ref_b) / 2, abs=1e-10)
    assert ssim(f, a, b, 'sum', window) == pytest.approx(ref_a + ref_b,
                                                         abs=1e-10)
    assert ssim_pair(a, a, window) == pytest.approx(1)
    with pytest.raises(ValueError, match='at least'):
        ssim_pair(a[:5], a[:5], window)


def test_psnr_hand_case_and_skimage():
    a = np.full((8, 8), 100, np.uint8)
    b = np.full((8, 8), 101, np.uint8)
    # MSE(F, A) = 0, MSE(F, B) = 1: the mean MSE is 0.5.
    assert psnr(a, a, b) == pytest.approx(10 * math.log10(255**2 / 0.5))
    assert psnr(a, a, a) == math.inf
    f, a, _ = random_triple(seed=5)
    assert psnr(f, a, a) == pytest.approx(
        peak_signal_noise_ratio(a, f, data_range=255), rel=1e-12)
