"""RandomFusionCrop: the fusion loss's crops, at the same place."""
import numpy as np
import pytest
from transform_helpers import H, W, grey, pair_results, smooth_vis

from tdfusion_mm.datasets.transforms import RandomFusionCrop


def test_fusion_crop_same_place_native_resolution():
    np.random.seed(0)
    results = pair_results()
    out = RandomFusionCrop(crop_size=(16, 24))(results)
    assert out['ir_crop'].shape == (16, 24)
    assert out['vis_crop'].shape == (16, 24, 3)
    np.testing.assert_array_equal(out['ir_crop'], grey(out['vis_crop']))
    assert out['img'].shape == (H, W, 3) and out['ir_img'].shape == (H, W)
    offsets = {
        RandomFusionCrop(16)(pair_results())['ir_crop'].tobytes()
        for _ in range(10)
    }
    assert len(offsets) > 1


def test_fusion_crop_pads_small_images_with_zeros():
    vis = smooth_vis(10, 12)
    ir = (grey(vis).astype(np.uint16) + 1) * 100
    out = RandomFusionCrop(16)(pair_results(vis=vis, ir=ir))
    assert out['ir_crop'].shape == (16, 16)
    assert out['ir_crop'].dtype == np.uint16
    np.testing.assert_array_equal(out['ir_crop'][:10, :12], ir)
    assert not out['ir_crop'][10:].any() and not out['ir_crop'][:, 12:].any()
    np.testing.assert_array_equal(out['vis_crop'][:10, :12], vis)
    assert not out['vis_crop'][10:].any()


def test_fusion_crop_bad_args_and_sizes():
    with pytest.raises(ValueError):
        RandomFusionCrop((0, 4))
    results = pair_results()
    results['ir_img'] = results['ir_img'][:10]
    with pytest.raises(ValueError, match='ir.png'):
        RandomFusionCrop(8)(results)
