"""PairedTransform: geometric transforms applied to both images alike."""
import numpy as np
import pytest
import torch
from mmcv.transforms import BaseTransform
from transform_helpers import W, grey, pair_results, smooth_vis

from tdfusion_mm.datasets.transforms import PairedTransform
from tdfusion_mm.registry import TRANSFORMS


def test_flip_moves_boxes_exactly_once():
    results = pair_results()
    vis, ir = results['img'].copy(), results['ir_img'].copy()
    t = TRANSFORMS.build(
        dict(
            type='tdfusion_mm.PairedTransform',
            transforms=[dict(type='mmdet.RandomFlip', prob=1.0)]))
    out = t(results)
    torch.testing.assert_close(out['gt_bboxes'].tensor,
                               torch.tensor([[W - 30., 5., W - 10., 25.]]))
    np.testing.assert_array_equal(out['img'], vis[:, ::-1])
    np.testing.assert_array_equal(out['ir_img'], ir[:, ::-1])
    assert out['flip'] and out['flip_direction'] == 'horizontal'


# RandomResize and RandomChoiceResize are mmcv classes: 'mmdet.RandomResize'
# is not found under the mmdet default scope (mmengine searches the parents
# only for unscoped names), so they are named without scope.
GEOMETRIC = [
    dict(type='RandomResize', scale=[(96, 72), (160, 120)],
         keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.5,
         direction=['horizontal', 'vertical']),
    dict(type='mmdet.RandomCrop', crop_size=(0.5, 0.9),
         crop_type='relative_range', allow_negative_crop=True),
    dict(type='mmdet.Pad', size_divisor=32, pad_val=dict(img=(7, 7, 7))),
]


@pytest.mark.parametrize('seed', range(6))
def test_resize_flip_crop_pad_keep_pixels_aligned(seed):
    np.random.seed(seed)
    results = pair_results(vis=smooth_vis(seed=seed))
    out = PairedTransform(GEOMETRIC)(results)
    assert out['ir_img'].shape == out['img'].shape[:2]
    assert out['ir_img'].dtype == np.uint8
    diff = np.abs(out['ir_img'].astype(int) - grey(out['img']).astype(int))
    assert diff.max() <= 2
    # The transform must really have been random and geometric.
    assert out['img'].shape[0] % 32 == 0 and out['img'].shape[1] % 32 == 0


def test_alignment_check_detects_a_misplaced_ir():
    """The check the previous test relies on fails when IR is misplaced."""
    np.random.seed(0)
    out = PairedTransform(GEOMETRIC)(pair_results())
    shifted = np.roll(out['ir_img'], 3, axis=1)
    diff = np.abs(shifted.astype(int) - grey(out['img']).astype(int))
    assert diff.max() > 2


@pytest.mark.parametrize('cfg', [
    dict(type='mmdet.Resize', scale=(40, 30), keep_ratio=False),
    dict(type='mmdet.FixShapeResize', width=50, height=50, keep_ratio=True),
    dict(type='RandomChoiceResize', scales=[(40, 30), (100, 75)]),
    dict(type='mmdet.Pad', size=(96, 64), pad_val=dict(img=0)),
])
def test_other_geometric_transforms(cfg):
    vis = smooth_vis()
    ir16 = grey(vis).astype(np.uint16) * 257
    out = PairedTransform([cfg])(pair_results(vis=vis, ir=ir16))
    assert out['ir_img'].dtype == np.uint16
    assert out['ir_img'].shape == out['img'].shape[:2]
    diff = np.abs(out['ir_img'] / 257. - grey(out['img']))
    assert diff.max() <= 2


def test_boxes_scaled_once_by_resize():
    out = PairedTransform([
        dict(type='mmdet.Resize', scale=(160, 120), keep_ratio=False)
    ])(pair_results())
    torch.testing.assert_close(out['gt_bboxes'].tensor,
                               torch.tensor([[20., 10., 60., 50.]]))
    assert out['scale_factor'] == (2., 2.)


def test_grey_visible():
    vis = grey(smooth_vis())
    out = PairedTransform([
        dict(type='mmdet.Resize', scale=(40, 30), keep_ratio=False),
        dict(type='mmdet.RandomFlip', prob=1.0),
        dict(type='mmdet.Pad', size=(64, 32)),
    ])(pair_results(vis=vis, ir=vis.copy()))
    assert out['img'].shape == out['ir_img'].shape == (32, 64)
    np.testing.assert_array_equal(out['img'], out['ir_img'])


def test_crop_without_objects_drops_the_sample():
    t = PairedTransform([
        dict(type='mmdet.RandomCrop', crop_size=(10, 10),
             allow_negative_crop=False)
    ])
    np.random.seed(1)
    outs = [t(pair_results(boxes=((0., 0., 2., 2.), ))) for _ in range(5)]
    assert all(o is None for o in outs)


class UncachedRandomCrop(BaseTransform):
    """Draws its crop outside ``cache_randomness``: not replayable.

    With ``fixed_size`` the crop has one size and, like mmdet transforms,
    records a homography matrix; otherwise its size is random too.
    """

    def __init__(self, fixed_size):
        self.fixed_size = fixed_size

    def transform(self, results):
        top = np.random.randint(0, 20)
        height = 30 if self.fixed_size else np.random.randint(20, 40)
        results['img'] = results['img'][top:top + height]
        results['img_shape'] = results['img'].shape[:2]
        if self.fixed_size:
            matrix = np.eye(3, dtype=np.float32)
            matrix[1, 2] = -top
            results['homography_matrix'] = matrix
        return results


@pytest.mark.parametrize('fixed_size', [True, False])
def test_unreplayable_transform_is_an_error(fixed_size):
    np.random.seed(0)
    with pytest.raises(RuntimeError, match='UncachedRandomCrop'):
        for _ in range(10):
            PairedTransform([UncachedRandomCrop(fixed_size)])(pair_results())


def test_photometric_distortion_changes_only_visible():
    results = pair_results()
    ir = results['ir_img'].copy()
    t = TRANSFORMS.build(dict(type='mmdet.PhotoMetricDistortion'))
    np.random.seed(0)
    out = t(results)
    np.testing.assert_array_equal(out['ir_img'], ir)
    vis = grey(smooth_vis())
    grey_results = pair_results(vis=vis, ir=vis.copy())
    with pytest.raises(Exception):  # HSV conversion needs 3 channels
        for _ in range(10):
            t(dict(grey_results))
