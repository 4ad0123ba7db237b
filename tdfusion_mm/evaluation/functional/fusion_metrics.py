"""Fusion-quality metrics of infrared-visible image fusion.

Every function takes 2-D arrays of 8-bit luma: ``uint8`` arrays, or real
arrays holding values on the same 0-255 scale (use :func:`to_uint8` to bring
a [0, 1] float image or a 16-bit image there first). ``fused`` is the fused
image F, ``ir`` the infrared source A and ``vis`` the visible source B.
Formulas, conventions and references: ``docs/fusion_metrics.md``.
"""
import math
from typing import Callable, Dict, Optional, Sequence

import cv2
import numpy as np

from tdfusion_mm.utils.image_dtype import to_uint8

__all__ = [
    'METRIC_NAMES', 'PRESETS', 'metric_conventions', 'to_uint8', 'en', 'sd',
    'sf', 'ag', 'mi', 'scd', 'vifp', 'vif', 'qabf', 'ssim_pair', 'ssim',
    'psnr', 'fusion_metrics'
]

METRIC_NAMES = ('EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM',
                'PSNR')
REDUCTIONS = ('mean', 'sum')
SSIM_WINDOWS = ('gaussian', 'uniform')
MI_UNITS = ('bits', 'nats')
AG_DIFFERENCES = ('central', 'forward')
PSNR_PEAKS = ('8bit', 'fused_max')

# Conventions of published evaluators, by name (docs/fusion_metrics.md):
# how VIF and SSIM combine the two sources, the SSIM window, the unit of MI,
# the differences of AG and the peak of PSNR.
PRESETS = dict(
    # TDFusion's official evaluator (Evaluator.py), as its paper's tables.
    tdfusion=dict(reduce='mean', ssim_window='uniform', mi_unit='bits',
                  ag_difference='central', psnr_peak='8bit'),
    # CDDFuse's evaluator, which many papers copy: sums over the sources,
    # MI from sklearn (natural logarithm), PSNR peak max(F).
    cddfuse=dict(reduce='sum', ssim_window='uniform', mi_unit='nats',
                 ag_difference='central', psnr_peak='fused_max'),
    # MATLAB fusion toolkits: AG with forward differences over
    # (H-1)x(W-1), SSIM with Wang et al.'s ssim_index.m (11x11 Gaussian).
    matlab=dict(reduce='mean', ssim_window='gaussian', mi_unit='bits',
                ag_difference='forward', psnr_peak='8bit'),
)
_CHOICES = dict(reduce=REDUCTIONS, ssim_window=SSIM_WINDOWS,
                mi_unit=MI_UNITS, ag_difference=AG_DIFFERENCES,
                psnr_peak=PSNR_PEAKS)

# Xydeas & Petrovic's sigmoid constants of Qabf.
_QABF_TG, _QABF_KG, _QABF_DG = 0.9994, -15.0, 0.5
_QABF_TA, _QABF_KA, _QABF_DA = 0.9879, -22.0, 0.8
# Sobel kernels of Qabf for cv2.filter2D (a correlation): they are the
# flipped kernels that the reference evaluators convolve with.
_QABF_KX = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)
_QABF_KY = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64)

# VIFp: noise variance and the Gaussian window size of each of 4 scales.
_VIF_SIGMA_NSQ = 2.0
_VIF_EPS = 1e-10
_VIF_WINDOWS = (17, 9, 5, 3)

_SSIM_K1, _SSIM_K2, _PEAK = 0.01, 0.03, 255.0


def _as_float(img: np.ndarray, name: str = 'image') -> np.ndarray:
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f'{name} must be a 2-D luma array, got shape '
                         f'{img.shape}')
    return img


def _as_levels(img: np.ndarray) -> np.ndarray:
    """Integer grey levels 0-255 (rounded and clipped), flattened."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = np.clip(np.rint(_as_float(img)), 0, 255).astype(np.uint8)
    return img.ravel()


def _check_triple(fused, ir, vis):
    arrays = [_as_float(a, n) for a, n in
              ((fused, 'fused'), (ir, 'ir'), (vis, 'vis'))]
    if not arrays[0].shape == arrays[1].shape == arrays[2].shape:
        raise ValueError('fused, ir and vis must have one shape, got '
                         f'{[a.shape for a in arrays]}')
    return arrays


def metric_conventions(preset: str = 'tdfusion', **overrides) -> dict:
    """The conventions of a named preset, some of them overridden.

    Args:
        preset (str): A key of :data:`PRESETS`. Defaults to ``'tdfusion'``.
        **overrides: ``reduce``, ``ssim_window``, ``mi_unit``,
            ``ag_difference`` or ``psnr_peak``; None keeps the preset's.

    Returns:
        dict: All five conventions.
    """
    if preset not in PRESETS:
        raise KeyError(f'unknown metric preset {preset!r}; available: '
                       f'{sorted(PRESETS)}')
    conventions = dict(PRESETS[preset])
    for key, value in overrides.items():
        if key not in _CHOICES:
            raise KeyError(f'unknown metric convention {key!r}; available: '
                           f'{sorted(_CHOICES)}')
        if value is None:
            continue
        if value not in _CHOICES[key]:
            raise ValueError(f'{key} must be one of {_CHOICES[key]}, got '
                             f'{value!r}')
        conventions[key] = value
    return conventions


def _reduce(a: float, b: float, reduce: str) -> float:
    if reduce not in REDUCTIONS:
        raise ValueError(f'reduce must be one of {REDUCTIONS}, got '
                         f'{reduce!r}')
    return (a + b) / 2 if reduce == 'mean' else a + b


def _entropy_of_counts(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


# ---------------------------------------------------------------- fused only
def en(fused: np.ndarray) -> float:
    """Entropy (bits) of the 256-bin grey-level histogram."""
    return _entropy_of_counts(np.bincount(_as_levels(fused), minlength=256))


def sd(fused: np.ndarray) -> float:
    """Standard deviation of the grey levels (population, 1/N)."""
    return float(_as_float(fused).std())


def sf(fused: np.ndarray) -> float:
    """Spatial frequency ``sqrt(RF^2 + CF^2)``.

    RF^2 and CF^2 are the mean squared differences of horizontally and
    vertically adjacent pixels (means over the H(W-1) and (H-1)W pairs).
    """
    img = _as_float(fused)
    rf2 = np.mean(np.diff(img, axis=1)**2)
    cf2 = np.mean(np.diff(img, axis=0)**2)
    return float(math.sqrt(rf2 + cf2))


def ag(fused: np.ndarray, difference: str = 'central') -> float:
    """Average gradient ``mean(sqrt((Gx^2 + Gy^2) / 2))``.

    Args:
        fused (np.ndarray): The image.
        difference (str): ``'central'``: Gx, Gy are central differences
            ((x[i+1] - x[i-1]) / 2) inside the image and one-sided ones on
            its border (``np.gradient``), mean over H x W, as the
            TDFusion/CDDFuse evaluators; ``'forward'``: x[i+1] - x[i] in
            both directions from the same pixel, mean over (H-1) x (W-1),
            as the MATLAB toolkits. Defaults to ``'central'``.
    """
    img = _as_float(fused)
    if difference == 'central':
        gy, gx = np.gradient(img)
    elif difference == 'forward':
        gx = img[:-1, 1:] - img[:-1, :-1]
        gy = img[1:, :-1] - img[:-1, :-1]
    else:
        raise ValueError(f'difference must be one of {AG_DIFFERENCES}, got '
                         f'{difference!r}')
    return float(np.mean(np.sqrt((gx * gx + gy * gy) / 2)))


# ------------------------------------------------------------- with sources
def _mi_pair(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (bits) of two level arrays, 256-bin histograms."""
    joint = np.bincount(a.astype(np.int64) * 256 + b, minlength=256 * 256)
    joint = joint.reshape(256, 256)
    return (_entropy_of_counts(joint.sum(1)) +
            _entropy_of_counts(joint.sum(0)) - _entropy_of_counts(joint))


def mi(fused: np.ndarray, ir: np.ndarray, vis: np.ndarray,
       unit: str = 'bits') -> float:
    """Mutual information ``MI(F, A) + MI(F, B)`` in ``'bits'`` (default)
    or ``'nats'`` (natural logarithm, as sklearn's ``mutual_info_score``)."""
    if unit not in MI_UNITS:
        raise ValueError(f'unit must be one of {MI_UNITS}, got {unit!r}')
    _check_triple(fused, ir, vis)
    f = _as_levels(fused)
    bits = _mi_pair(f, _as_levels(ir)) + _mi_pair(f, _as_levels(vis))
    return bits if unit == 'bits' else bits * math.log(2)


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation; 0 when either input is constant."""
    x, y = x - x.mean(), y - y.mean()
    den = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    return float((x * y).sum()) / den if den > 0 else 0.0


def scd(fused: np.ndarray, ir: np.ndarray, vis: np.ndarray) -> float:
    """Sum of the correlations of differences:
    ``corr(F - B, A) + corr(F - A, B)``."""
    f, a, b = _check_triple(fused, ir, vis)
    return _corr(f - b, a) + _corr(f - a, b)


def _gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    kernel = np.exp(-x * x / (2 * sigma * sigma))
    return kernel / kernel.sum()


def _filter_valid(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Separable filtering keeping the 'valid' part (no border effects);
    empty if the image is smaller than the kernel."""
    r = len(kernel) // 2
    if min(img.shape) <= 2 * r:
        return np.zeros([max(n - 2 * r, 0) for n in img.shape])
    out = cv2.sepFilter2D(img, cv2.CV_64F, kernel, kernel,
                          borderType=cv2.BORDER_REFLECT)
    return out[r:img.shape[0] - r, r:img.shape[1] - r]


def _vif_levels(img: np.ndarray) -> list:
    """Per VIF scale: (image, window, local mean, local variance)."""
    levels = []
    for size in _VIF_WINDOWS:
        kernel = _gaussian_kernel(size, size / 5)
        if levels:
            img = _filter_valid(img, kernel)[::2, ::2]
        mu = _filter_valid(img, kernel)
        var = np.maximum(_filter_valid(img * img, kernel) - mu * mu, 0)
        levels.append((img, kernel, mu, var))
    return levels


def _vifp_levels(ref_levels: list, dist_levels: list) -> float:
    num = den = 0.0
    for (ref, kernel, mu1, s1), (dist, _, mu2, s2) in zip(
            ref_levels, dist_levels):
        s1 = s1.copy()
        s12 = _filter_valid(ref * dist, kernel) - mu1 * mu2
        g = s12 / (s1 + _VIF_EPS)
        sv = s2 - g * s12
        flat_ref = s1 < _VIF_EPS
        g[flat_ref] = 0
        sv[flat_ref] = s2[flat_ref]
        s1[flat_ref] = 0
        flat_dist = s2 < _VIF_EPS
        g[flat_dist] = 0
        sv[flat_dist] = 0
        negative = g < 0
        sv[negative] = s2[negative]
        g[negative] = 0
        sv = np.maximum(sv, _VIF_EPS)
        num += float(np.log10(1 + g * g * s1 / (sv + _VIF_SIGMA_NSQ)).sum())
        den += float(np.log10(1 + s1 / _VIF_SIGMA_NSQ).sum())
    return num / den if den > 0 else 1.0


def vifp(ref: np.ndarray, dist: np.ndarray) -> float:
    """Pixel-domain, multi-scale visual information fidelity of ``dist``.

    Sheikh & Bovik's VIFp with noise variance 2 and 4 scales of Gaussian
    windows (sizes 17, 9, 5, 3, sigma = size / 5, 'valid' filtering; each
    scale after the first is the previous one filtered with its window and
    subsampled by 2). Returns 1 if ``ref`` is flat everywhere (0 / 0).

    Args:
        ref (np.ndarray): Reference image (a source).
        dist (np.ndarray): Distorted image (the fused image).

    Returns:
        float: ``sum(log10(1 + g^2 s1 / (sv + 2))) / sum(log10(1 + s1 / 2))``
        over all scales and positions.
    """
    ref, dist = _as_float(ref, 'ref'), _as_float(dist, 'dist')
    if ref.shape != dist.shape:
        raise ValueError(f'ref {ref.shape} and dist {dist.shape} differ')
    return _vifp_levels(_vif_levels(ref), _vif_levels(dist))


def vif(fused: np.ndarray, ir: np.ndarray, vis: np.ndarray,
        reduce: str = 'mean') -> float:
    """VIF of the fused image: VIFp(A, F) and VIFp(B, F), averaged
    (``reduce='mean'``) or summed (``'sum'``)."""
    f, a, b = _check_triple(fused, ir, vis)
    f_levels = _vif_levels(f)
    return _reduce(_vifp_levels(_vif_levels(a), f_levels),
                   _vifp_levels(_vif_levels(b), f_levels), reduce)


def _sobel(img: np.ndarray):
    """Edge strength g and orientation alpha (pi/2 where s_x = 0)."""
    sx = cv2.filter2D(img, cv2.CV_64F, _QABF_KX,
                      borderType=cv2.BORDER_CONSTANT)
    sy = cv2.filter2D(img, cv2.CV_64F, _QABF_KY,
                      borderType=cv2.BORDER_CONSTANT)
    vertical = sx == 0
    alpha = np.arctan(sy / np.where(vertical, 1, sx))
    alpha[vertical] = math.pi / 2
    return np.sqrt(sx * sx + sy * sy), alpha


def _edge_preservation(g_s, a_s, g_f, a_f) -> np.ndarray:
    """Q^{SF} = Q_g * Q_a of one source S, per pixel."""
    big = np.maximum(g_s, g_f)
    ratio = np.minimum(g_s, g_f) / np.where(big > 0, big, 1)
    orient = 1 - np.abs(a_s - a_f) / (math.pi / 2)
    q_g = _QABF_TG / (1 + np.exp(_QABF_KG * (ratio - _QABF_DG)))
    q_a = _QABF_TA / (1 + np.exp(_QABF_KA * (orient - _QABF_DA)))
    return q_g * q_a


def qabf(fused: np.ndarray, ir: np.ndarray, vis: np.ndarray) -> float:
    """Xydeas & Petrovic's edge-based fusion quality Q^{AB/F}.

    ``sum(Q^AF g_A + Q^BF g_B) / sum(g_A + g_B)`` with 3x3 Sobel edges (zero
    padding); 0 if neither source has an edge.
    """
    f, a, b = _check_triple(fused, ir, vis)
    g_f, a_f = _sobel(f)
    g_a, a_a = _sobel(a)
    g_b, a_b = _sobel(b)
    den = float((g_a + g_b).sum())
    if den == 0:
        return 0.0
    num = (_edge_preservation(g_a, a_a, g_f, a_f) * g_a +
           _edge_preservation(g_b, a_b, g_f, a_f) * g_b).sum()
    return float(num) / den


def ssim_pair(x: np.ndarray, y: np.ndarray,
              window: str = 'uniform') -> float:
    """Mean SSIM of two 8-bit images (Wang et al. 2004), L = 255.

    Args:
        x, y (np.ndarray): The two images.
        window (str): ``'gaussian'``: 11x11 Gaussian window, sigma 1.5,
            population (co)variances, as Wang et al.; ``'uniform'``: 7x7
            uniform window, sample (co)variances, as scikit-image's default
            (which the official TDFusion and CDDFuse evaluators call).
            The mean is over the positions where the window fits inside
            the image. Defaults to ``'uniform'``.

    Returns:
        float: The mean of the SSIM map.
    """
    if window not in SSIM_WINDOWS:
        raise ValueError(f'window must be one of {SSIM_WINDOWS}, got '
                         f'{window!r}')
    x, y = _as_float(x, 'x'), _as_float(y, 'y')
    if x.shape != y.shape:
        raise ValueError(f'x {x.shape} and y {y.shape} differ')
    if window == 'gaussian':
        size, kernel = 11, _gaussian_kernel(11, 1.5)
        cov_norm = 1.0
    else:
        size, kernel = 7, np.full(7, 1 / 7)
        cov_norm = 49 / 48
    if min(x.shape) < size:
        raise ValueError(f'SSIM needs images of at least {size}x{size}, '
                         f'got {x.shape}')
    mu_x, mu_y = _filter_valid(x, kernel), _filter_valid(y, kernel)
    var_x = cov_norm * (_filter_valid(x * x, kernel) - mu_x * mu_x)
    var_y = cov_norm * (_filter_valid(y * y, kernel) - mu_y * mu_y)
    cov = cov_norm * (_filter_valid(x * y, kernel) - mu_x * mu_y)
    c1, c2 = (_SSIM_K1 * _PEAK)**2, (_SSIM_K2 * _PEAK)**2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2) /
                ((mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)))
    return float(ssim_map.mean())


def ssim(fused: np.ndarray, ir: np.ndarray, vis: np.ndarray,
         reduce: str = 'mean', window: str = 'uniform') -> float:
    """SSIM(F, A) and SSIM(F, B), averaged (``reduce='mean'``) or summed
    (``'sum'``); ``window`` as in :func:`ssim_pair`."""
    f, a, b = _check_triple(fused, ir, vis)
    return _reduce(ssim_pair(f, a, window), ssim_pair(f, b, window), reduce)


def psnr(fused: np.ndarray, ir: np.ndarray, vis: np.ndarray,
         peak: str = '8bit') -> float:
    """``10 log10(P^2 / MSE)``, MSE the mean of MSE(F, A) and MSE(F, B);
    infinite if F equals both sources. The peak P is 255 (``'8bit'``,
    default) or the largest value of F (``'fused_max'``, as CDDFuse's
    evaluator)."""
    if peak not in PSNR_PEAKS:
        raise ValueError(f'peak must be one of {PSNR_PEAKS}, got {peak!r}')
    f, a, b = _check_triple(fused, ir, vis)
    mse = (np.mean((f - a)**2) + np.mean((f - b)**2)) / 2
    top = _PEAK if peak == '8bit' else float(f.max())
    return float(10 * np.log10(top**2 / mse)) if mse > 0 else math.inf


def fusion_metrics(fused: np.ndarray,
                   ir: np.ndarray,
                   vis: np.ndarray,
                   metrics: Optional[Sequence[str]] = None,
                   reduce: Optional[str] = None,
                   ssim_window: Optional[str] = None,
                   preset: str = 'tdfusion',
                   **conventions) -> Dict[str, float]:
    """Compute several fusion metrics of one triple.

    Args:
        fused (np.ndarray): Fused luma F, 8-bit scale.
        ir (np.ndarray): Infrared luma A, same shape.
        vis (np.ndarray): Visible luma B, same shape.
        metrics (Sequence[str], optional): Names among
            :data:`METRIC_NAMES`. Defaults to all of them.
        reduce (str, optional): How VIF and SSIM combine their two
            per-source values, ``'mean'`` or ``'sum'``. None: the preset's.
        ssim_window (str, optional): See :func:`ssim_pair`. None: the
            preset's.
        preset (str): Conventions of a published evaluator, a key of
            :data:`PRESETS`. Defaults to ``'tdfusion'`` (the official
            TDFusion evaluator).
        **conventions: ``mi_unit``, ``ag_difference`` or ``psnr_peak``
            overriding the preset's (see :func:`metric_conventions`).

    Returns:
        dict[str, float]: Metric name -> value, in the order asked.
    """
    names = METRIC_NAMES if metrics is None else tuple(metrics)
    unknown = [n for n in names if n not in METRIC_NAMES]
    if unknown:
        raise KeyError(f'unknown fusion metrics {unknown}; available: '
                       f'{list(METRIC_NAMES)}')
    conv = metric_conventions(preset, reduce=reduce, ssim_window=ssim_window,
                              **conventions)
    f, a, b = _check_triple(fused, ir, vis)
    compute: Dict[str, Callable[[], float]] = dict(
        EN=lambda: en(fused),
        SD=lambda: sd(f),
        SF=lambda: sf(f),
        AG=lambda: ag(f, conv['ag_difference']),
        MI=lambda: mi(fused, ir, vis, conv['mi_unit']),
        SCD=lambda: scd(f, a, b),
        VIF=lambda: vif(f, a, b, conv['reduce']),
        Qabf=lambda: qabf(f, a, b),
        SSIM=lambda: ssim(f, a, b, conv['reduce'], conv['ssim_window']),
        PSNR=lambda: psnr(f, a, b, conv['psnr_peak']))
    return {name: compute[name]() for name in names}
