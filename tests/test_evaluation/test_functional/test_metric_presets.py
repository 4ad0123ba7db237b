"""Named metric conventions (presets) against independent computations.

Each preset's SSIM, VIF, MI, AG and PSNR are recomputed here without the
library's conventions code: scikit-image's SSIM, joint histograms of numpy,
plain loops for AG and the PSNR formula.
"""
import math

import numpy as np
import pytest
from scipy.signal import convolve2d
from skimage.metrics import structural_similarity

from tdfusion_mm.evaluation import FusionMetric
from tdfusion_mm.evaluation.functional import (PRESETS, fusion_metrics,
                                               metric_conventions, vifp)


def triple(shape=(40, 52), seed=0):
    rng = np.random.default_rng(seed)
    a, b = (convolve2d(rng.integers(0, 256, shape).astype(float),
                       np.ones((3, 3)) / 9, mode='same', boundary='symm')
            for _ in range(2))
    f = 0.55 * a + 0.45 * b + rng.normal(0, 5, shape)
    return tuple(np.clip(np.rint(x), 0, 255).astype(np.uint8)
                 for x in (f, a, b))


def mutual_information(x, y, log):
    joint, _, _ = np.histogram2d(x.ravel(), y.ravel(), bins=256,
                                 range=[[0, 256], [0, 256]])
    p = joint / joint.sum()
    px, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * log(p[nz] / (px @ py)[nz])).sum())


def average_gradient_loops(img, forward):
    img = img.astype(float)
    h, w = img.shape
    total, count = 0.0, 0
    rows = range(h - 1) if forward else range(h)
    cols = range(w - 1) if forward else range(w)
    for i in rows:
        for j in cols:
            if forward:
                gx = img[i, j + 1] - img[i, j]
                gy = img[i + 1, j] - img[i, j]
            else:
                jl, jr = max(j - 1, 0), min(j + 1, w - 1)
                il, ir = max(i - 1, 0), min(i + 1, h - 1)
                gx = (img[i, jr] - img[i, jl]) / (jr - jl)
                gy = (img[ir, j] - img[il, j]) / (ir - il)
            total += math.sqrt((gx * gx + gy * gy) / 2)
            count += 1
    return total / count


def reference(f, a, b, preset):
    """The five convention-dependent metrics, as each evaluator defines
    them (docs/fusion_metrics.md)."""
    combine = {'tdfusion': lambda x, y: (x + y) / 2,
               'cddfuse': lambda x, y: x + y,
               'matlab': lambda x, y: (x + y) / 2}[preset]
    ssim_kwargs = dict(gaussian_weights=True, sigma=1.5,
                       use_sample_covariance=False) \
        if preset == 'matlab' else {}  # skimage's default: 7x7 uniform
    ssim_a, ssim_b = (structural_similarity(f, s, data_range=255,
                                            **ssim_kwargs) for s in (a, b))
    log = np.log if preset == 'cddfuse' else np.log2
    fd, ad, bd = (x.astype(float) for x in (f, a, b))
    mse = (((fd - ad)**2).mean() + ((fd - bd)**2).mean()) / 2
    peak = fd.max() if preset == 'cddfuse' else 255.0
    return dict(
        SSIM=combine(ssim_a, ssim_b),
        VIF=combine(vifp(a, f), vifp(b, f)),
        MI=mutual_information(f, a, log) + mutual_information(f, b, log),
        AG=average_gradient_loops(f, forward=preset == 'matlab'),
        PSNR=10 * math.log10(peak**2 / mse))


@pytest.mark.parametrize('preset', sorted(PRESETS))
def test_preset_against_independent_computation(preset):
    f, a, b = triple(seed=len(preset))
    got = fusion_metrics(f, a, b, preset=preset)
    for name, value in reference(f, a, b, preset).items():
        assert got[name] == pytest.approx(value, rel=1e-9), name
    # The other metrics do not depend on the conventions.
    tdf = fusion_metrics(f, a, b, preset='tdfusion')
    for name in ('EN', 'SD', 'SF', 'SCD', 'Qabf'):
        assert got[name] == tdf[name]


def test_presets_differ_where_they_should():
    f, a, b = triple(seed=7)
    tdf, cdd, mat = (fusion_metrics(f, a, b, preset=p)
                     for p in ('tdfusion', 'cddfuse', 'matlab'))
    assert cdd['SSIM'] == pytest.approx(2 * tdf['SSIM'])
    assert cdd['VIF'] == pytest.approx(2 * tdf['VIF'])
    assert cdd['MI'] == pytest.approx(math.log(2) * tdf['MI'])
    assert mat['AG'] != pytest.approx(tdf['AG'], rel=1e-3)
    assert mat['SSIM'] != pytest.approx(tdf['SSIM'], rel=1e-3)


def test_default_is_the_official_tdfusion_evaluator():
    """Defaults: skimage's default SSIM (7x7 uniform) averaged over the
    sources, as TDFusion's Evaluator.py; the metric class agrees."""
    f, a, b = triple(seed=3)
    default = fusion_metrics(f, a, b)
    assert default == fusion_metrics(f, a, b, preset='tdfusion')
    expected = (structural_similarity(f, a) + structural_similarity(f, b)) / 2
    assert default['SSIM'] == pytest.approx(expected, rel=1e-12)
    metric = FusionMetric()
    assert metric.conventions == PRESETS['tdfusion']
    assert FusionMetric(preset='cddfuse', reduce='mean').conventions == dict(
        PRESETS['cddfuse'], reduce='mean')


def test_overrides_and_errors():
    f, a, b = triple(seed=1)
    mixed = fusion_metrics(f, a, b, ['SSIM', 'MI'], preset='cddfuse',
                           reduce='mean', mi_unit='bits')
    tdf = fusion_metrics(f, a, b, ['SSIM', 'MI'])
    assert mixed == pytest.approx(tdf)
    with pytest.raises(KeyError, match='preset'):
        fusion_metrics(f, a, b, preset='vifb')
    with pytest.raises(ValueError, match='mi_unit'):
        metric_conventions(mi_unit='dits')
    with pytest.raises(KeyError, match='convention'):
        metric_conventions(window='uniform')
    with pytest.raises(KeyError, match='FusionMetric'):
        FusionMetric(preset='vifb')
    with pytest.raises(ValueError, match='FusionMetric.*reduce'):
        FusionMetric(reduce='max')
