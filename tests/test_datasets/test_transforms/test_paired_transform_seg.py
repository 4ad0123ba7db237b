"""The paired pipeline on label maps: IR, visible and labels stay aligned."""
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmseg.datasets.transforms import PackSegInputs
from mmseg.structures import SegDataSample

from tdfusion_mm.registry import DATASETS, TRANSFORMS

H, W = 48, 64
PALETTE = np.random.default_rng(1).integers(0, 256, (9, 3), np.uint8)


@pytest.fixture(autouse=True)
def tdfusion_default_scope():
    """Our configs' default scope (mmcv's RandomResize builds its inner
    Resize in it)."""
    with DefaultScope.overwrite_default_scope('tdfusion_mm'):
        yield


def ir_of(label):
    return (label.astype(np.uint8) * 25 + 10)


def aligned_results(seed=0):
    """A blocky label map; the visible image and the infrared image are
    functions of it, so any misalignment shows."""
    rng = np.random.default_rng(seed)
    label = np.kron(rng.integers(0, 9, (H // 4, W // 4)),
                    np.ones((4, 4), int)).astype(np.uint8)
    return dict(
        img=PALETTE[label],
        ir_img=ir_of(label),
        gt_seg_map=label,
        seg_fields=['gt_seg_map'],
        img_shape=(H, W),
        ori_shape=(H, W),
        img_path='vi.png',
        ir_path='ir.png',
        reduce_zero_label=False)


def assert_aligned(out):
    label = out['gt_seg_map']
    assert out['img'].shape[:2] == out['ir_img'].shape == label.shape
    valid = label != 255  # padding of crops/rotations
    assert valid.mean() > 0.5
    np.testing.assert_array_equal(out['img'][valid], PALETTE[label[valid]])
    np.testing.assert_array_equal(out['ir_img'][valid],
                                  ir_of(label)[valid])


GEOMETRIC = [
    dict(type='mmseg.RandomResize', scale=(W, H), ratio_range=(0.5, 2.0),
         keep_ratio=True, interpolation='nearest'),
    dict(type='mmseg.RandomCrop', crop_size=(20, 28), cat_max_ratio=0.75),
    dict(type='mmseg.RandomFlip', prob=0.5,
         direction=['horizontal', 'vertical']),
    dict(type='mmseg.Resize', scale=(40, 30), keep_ratio=False,
         interpolation='nearest'),
]


def test_geometric_transforms_keep_ir_visible_and_labels_aligned():
    paired = TRANSFORMS.build(
        dict(type='PairedTransform', transforms=GEOMETRIC))
    labels = []
    for seed in range(8):
        np.random.seed(seed)
        out = paired(aligned_results(seed % 2))
        assert_aligned(out)
        assert out['img_shape'] == (30, 40)
        labels.append(out['gt_seg_map'])
    # The randomness was exercised: same input, different outputs.
    assert any(not np.array_equal(labels[0], lab) for lab in labels[2::2])


def test_unpaired_transform_would_misalign():
    """The check above can fail: flipping the visible image and the labels
    but not the infrared image."""
    flip = TRANSFORMS.build(dict(type='mmseg.RandomFlip', prob=1.0))
    with pytest.raises(AssertionError):
        assert_aligned(flip(aligned_results()))
    paired = TRANSFORMS.build(dict(type='PairedTransform', transforms=[flip]))
    assert_aligned(paired(aligned_results()))


def test_photometric_changes_the_visible_image_only():
    results = aligned_results()
    ir, label, vis = (results['ir_img'].copy(), results['gt_seg_map'].copy(),
                      results['img'].copy())
    np.random.seed(0)
    out = TRANSFORMS.build(dict(type='mmseg.PhotoMetricDistortion'))(results)
    assert not np.array_equal(out['img'], vis)
    np.testing.assert_array_equal(out['ir_img'], ir)
    np.testing.assert_array_equal(out['gt_seg_map'], label)


def test_pack_gives_mmseg_sample_and_both_images():
    results = aligned_results()
    results.update(
        ir_crop=results['ir_img'][:16, :16],
        vis_crop=results['img'][:16, :16].astype(np.float32) + 300)
    packed = TRANSFORMS.build(dict(type='PackFusionSegInputs'))(results)
    reference = PackSegInputs()(dict(results))
    sample = packed['data_samples']
    assert isinstance(sample, SegDataSample)
    assert torch.equal(sample.gt_sem_seg.data,
                       reference['data_samples'].gt_sem_seg.data)
    assert sample.metainfo == dict(reference['data_samples'].metainfo,
                                   ir_path='ir.png')
    inputs = packed['inputs']
    assert torch.equal(inputs['vis'], reference['inputs'])
    assert inputs['ir'].shape == (1, H, W) and inputs['ir'].dtype == \
        torch.uint8
    assert torch.equal(inputs['ir'][0], torch.from_numpy(results['ir_img']))
    assert inputs['ir_crop'].shape == (1, 16, 16)
    # A float crop (e.g. after a photometric transform) is clipped to uint8.
    assert inputs['vis_crop'].dtype == torch.uint8
    assert (inputs['vis_crop'] == 255).all()


def test_msrs_train_pipeline_on_demo_data(demo_root):
    task_size = (40, 32)
    dataset = DATASETS.build(
        dict(
            type='MSRSDataset',
            data_root=f'{demo_root}/msrs',
            pipeline=[
                dict(type='LoadIrVisFromFile'),
                dict(type='mmseg.LoadAnnotations'),
                dict(type='RandomFusionCrop', crop_size=24),
                dict(type='PairedTransform', transforms=[
                    dict(type='mmseg.Resize', scale=task_size,
                         keep_ratio=False),
                    dict(type='mmseg.RandomFlip', prob=0.5),
                ]),
                dict(type='PackFusionSegInputs'),
            ]))
    packed = dataset[0]
    inputs, sample = packed['inputs'], packed['data_samples']
    assert inputs['ir'].shape == (1, 32, 40)
    assert inputs['vis'].shape == (3, 32, 40)
    assert inputs['ir_crop'].shape == (1, 24, 24)
    assert sample.gt_sem_seg.shape == (32, 40)
    assert sample.ir_path.endswith('00000.png') and '/ir/' in sample.ir_path
    assert set(sample.gt_sem_seg.data.unique().tolist()) <= set(range(9))
