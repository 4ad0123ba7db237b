"""Tests of the paired loading, geometric, crop and packing transforms."""
import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import BaseTransform
from mmdet.datasets.transforms import PackDetInputs
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.registry import DefaultScope

from tdfusion_mm.datasets.transforms import (LoadIrVisFromFile,
                                             PackFusionDetInputs,
                                             PairedTransform,
                                             RandomFusionCrop)
from tdfusion_mm.registry import TRANSFORMS

H, W = 60, 80


@pytest.fixture(autouse=True)
def mmdet_default_scope():
    """Pipelines run with mmdet as the default scope, as in mmdet configs
    (mmcv's RandomResize builds its inner resize in the default scope)."""
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def smooth_vis(h=H, w=W, seed=0):
    """A smooth BGR image: interpolation errors stay small."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 10 + 1, w // 10 + 1, 3), np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def grey(img):
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def write(path, img):
    assert cv2.imwrite(str(path), img)
    return str(path)


def load(tmp_path, vis, ir, **kwargs):
    results = dict(
        img_path=write(tmp_path / 'vis.png', vis),
        ir_path=write(tmp_path / 'ir.png', ir))
    return LoadIrVisFromFile(**kwargs)(results)


# ---------------------------------------------------------------- loading
def test_load_grey_ir_and_colour_vis(tmp_path):
    vis, ir = smooth_vis(), smooth_vis(seed=1)[..., 0]
    out = load(tmp_path, vis, ir)
    assert out['img'].shape == (H, W, 3) and out['img'].dtype == np.uint8
    np.testing.assert_array_equal(out['img'], vis)
    np.testing.assert_array_equal(out['ir_img'], ir)
    assert out['img_shape'] == out['ori_shape'] == (H, W)


def test_load_three_channel_ir_is_one_channel(tmp_path):
    ir = smooth_vis(seed=1)[..., 0]
    out = load(tmp_path, smooth_vis(), np.repeat(ir[..., None], 3, axis=2))
    assert out['ir_img'].shape == (H, W)
    np.testing.assert_array_equal(out['ir_img'], ir)


@pytest.mark.parametrize('channels', [1, 3])
def test_load_16bit_ir_keeps_depth(tmp_path, channels):
    ir = np.random.default_rng(0).integers(0, 65536, (H, W), np.uint16)
    ir[0, 0] = 65535
    file_ir = ir if channels == 1 else np.repeat(ir[..., None], 3, axis=2)
    out = load(tmp_path, smooth_vis(), file_ir)
    assert out['ir_img'].dtype == np.uint16
    np.testing.assert_array_equal(out['ir_img'], ir)


def test_load_grey_vis(tmp_path):
    vis = grey(smooth_vis())
    out = load(tmp_path, vis, vis, vis_color_type='grayscale')
    assert out['img'].shape == (H, W)
    np.testing.assert_array_equal(out['img'], vis)
    out = load(tmp_path, smooth_vis(), vis, vis_color_type='grayscale')
    assert out['img'].shape == (H, W)
    with pytest.raises(ValueError, match='vis_color_type'):
        LoadIrVisFromFile(vis_color_type='rgb')


def test_load_size_mismatch_names_both_files(tmp_path):
    vis, ir = smooth_vis(), smooth_vis(H // 2, W // 2)[..., 0]
    with pytest.raises(ValueError) as e:
        load(tmp_path, vis, ir)
    assert str(tmp_path / 'ir.png') in str(e.value)
    assert str(tmp_path / 'vis.png') in str(e.value)
    out = load(tmp_path, vis, ir, resize_ir_to_vis=True)
    assert out['ir_img'].shape == (H, W)


@pytest.mark.parametrize('suffix', ['.png', '.jpg'])
@pytest.mark.parametrize('which', ['ir', 'vis'])
def test_load_truncated_file_is_named(tmp_path, suffix, which):
    paths = dict(
        img_path=write(tmp_path / f'vis{suffix}', smooth_vis()),
        ir_path=write(tmp_path / f'ir{suffix}', smooth_vis()[..., 0]))
    key = 'ir_path' if which == 'ir' else 'img_path'
    with open(paths[key], 'rb') as f:
        content = f.read()
    with open(paths[key], 'wb') as f:
        f.write(content[:len(content) * 2 // 3])
    with pytest.raises(OSError) as e:
        LoadIrVisFromFile()(paths)
    assert paths[key] in str(e.value)


def test_load_garbage_and_missing_file_are_named(tmp_path):
    (tmp_path / 'ir.png').write_bytes(b'not an image at all')
    results = dict(
        img_path=write(tmp_path / 'vis.png', smooth_vis()),
        ir_path=str(tmp_path / 'ir.png'))
    with pytest.raises(OSError, match='ir.png'):
        LoadIrVisFromFile()(dict(results))
    results['ir_path'] = str(tmp_path / 'nope.png')
    with pytest.raises(FileNotFoundError, match='nope.png'):
        LoadIrVisFromFile()(dict(results))


# --------------------------------------------------------- paired geometry
def pair_results(vis=None, ir=None, boxes=((10., 5., 30., 25.), )):
    vis = smooth_vis() if vis is None else vis
    ir = grey(vis) if ir is None else ir
    return dict(
        img=vis,
        ir_img=ir,
        img_shape=vis.shape[:2],
        ori_shape=vis.shape[:2],
        img_path='vis.png',
        ir_path='ir.png',
        gt_bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)),
        gt_bboxes_labels=np.zeros(len(boxes), np.int64),
        gt_ignore_flags=np.zeros(len(boxes), bool))


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


# -------------------------------------------------------------- fusion crop
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


# ------------------------------------------------------------------ packing
def test_pack_fusion_det_inputs_matches_pack_det_inputs():
    results = pair_results()
    results.update(img_id='x', scale_factor=(1., 1.), flip=False,
                   flip_direction=None)
    results = RandomFusionCrop(16)(results)
    ref = PackDetInputs()(dict(results))
    out = PackFusionDetInputs()(dict(results))
    inputs = out['inputs']
    assert set(inputs) == {'ir', 'vis', 'ir_crop', 'vis_crop'}
    assert inputs['ir'].shape == (1, H, W) and inputs['ir'].dtype \
        == torch.uint8
    torch.testing.assert_close(inputs['vis'], ref['inputs'])
    torch.testing.assert_close(inputs['ir'][0],
                               torch.from_numpy(results['ir_img']))
    assert inputs['vis_crop'].shape == (3, 16, 16)
    torch.testing.assert_close(inputs['ir_crop'][0],
                               torch.from_numpy(results['ir_crop']))
    sample, ref_sample = out['data_samples'], ref['data_samples']
    assert type(sample) is type(ref_sample)
    assert sample.ir_path == 'ir.png'
    meta = dict(sample.metainfo)
    assert meta.pop('ir_path') == 'ir.png'
    assert meta == ref_sample.metainfo
    torch.testing.assert_close(sample.gt_instances.bboxes.tensor,
                               ref_sample.gt_instances.bboxes.tensor)
    torch.testing.assert_close(sample.gt_instances.labels,
                               ref_sample.gt_instances.labels)


def test_pack_16bit_ir_and_grey_vis():
    vis = grey(smooth_vis())
    ir = vis.astype(np.uint16) * 257
    out = PackFusionDetInputs()(pair_results(vis=vis, ir=ir))
    assert out['inputs']['ir'].dtype == torch.uint16
    assert out['inputs']['vis'].shape == (1, H, W)
    assert 'ir_crop' not in out['inputs']


def test_pack_makes_photometric_float_output_uint8():
    results = pair_results()
    np.random.seed(3)
    results = TRANSFORMS.build(dict(type='mmdet.PhotoMetricDistortion'))(
        results)
    assert results['img'].dtype == np.float32  # what mmdet returns
    results['img'][0, 0] = (-3.2, 255.7, 100.4)
    out = PackFusionDetInputs()(results)
    vis = out['inputs']['vis']
    assert vis.dtype == torch.uint8
    assert vis[:, 0, 0].tolist() == [0, 255, 100]
    expected = np.clip(np.rint(results['img']), 0, 255).astype(np.uint8)
    torch.testing.assert_close(vis, torch.from_numpy(expected).permute(
        2, 0, 1))
