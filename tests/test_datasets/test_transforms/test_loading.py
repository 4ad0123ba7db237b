"""LoadIrVisFromFile: both images of a pair, checked and named;
LoadSegAnnotations: label maps checked."""
import cv2
import numpy as np
import pytest
from transform_helpers import H, W, grey, smooth_vis, write

from tdfusion_mm.datasets.transforms import (LoadIrVisFromFile,
                                             LoadSegAnnotations)
from tdfusion_mm.utils.user_errors import InvalidInputFileError


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


# ------------------------------------------------------------- label maps
def load_label(tmp_path, label):
    path = str(tmp_path / 'label.png')
    cv2.imwrite(path, label)
    return path, LoadSegAnnotations(num_classes=9, ignore_index=255)(dict(
        seg_map_path=path, seg_fields=[], reduce_zero_label=False))


def test_16bit_label_map_within_8_bits_loads(tmp_path):
    label = (np.arange(H * W).reshape(H, W) % 9).astype(np.uint16)
    _, out = load_label(tmp_path, label)
    assert out['gt_seg_map'].dtype == np.uint8
    np.testing.assert_array_equal(out['gt_seg_map'], label)


def test_16bit_label_value_that_would_wrap_names_the_file(tmp_path):
    label = np.zeros((H, W), np.uint16)
    label[1, 2] = 256 + 3  # as uint8: 3, a valid class
    with pytest.raises(InvalidInputFileError) as info:
        load_label(tmp_path, label)
    path = str(tmp_path / 'label.png')
    assert path in str(info.value) and '[259]' in str(info.value)
