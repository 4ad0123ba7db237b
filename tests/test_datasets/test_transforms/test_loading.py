"""LoadIrVisFromFile: both images of a pair, checked and named;
LoadSegAnnotations: label maps checked; LoadDetAnnotations: boxes checked
against the image."""
import cv2
import numpy as np
import pytest
from transform_helpers import H, W, grey, smooth_vis, write

from tdfusion_mm.datasets.transforms import loading
from tdfusion_mm.datasets.transforms import (LoadDetAnnotations,
                                             LoadIrVisFromFile,
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
    with pytest.raises(InvalidInputFileError) as e:  # one line in the tools
        load(tmp_path, vis, ir)
    assert str(e.value).startswith(f'{tmp_path / "ir.png"}: the infrared '
                                   f'image is {H // 2}x{W // 2}')
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


def test_label_map_of_another_size_than_its_image_names_both(tmp_path):
    path = str(tmp_path / 'label.png')
    cv2.imwrite(path, np.zeros((H // 2, W // 2), np.uint8))
    results = dict(seg_map_path=path, seg_fields=[], reduce_zero_label=False,
                   img_path='vis.png', ori_shape=(H, W))
    loader = LoadSegAnnotations(num_classes=9, ignore_index=255)
    with pytest.raises(InvalidInputFileError) as info:
        loader(dict(results))
    assert str(info.value) == (
        f'{path}: the label map is {H // 2}x{W // 2} (HxW) but the image '
        f'vis.png is {H}x{W}')
    cv2.imwrite(path, np.zeros((H, W), np.uint8))
    assert loader(dict(results))['gt_seg_map'].shape == (H, W)


# ------------------------------------------------------------------ boxes
def det_results(*boxes, **info):
    return dict(dict(ori_shape=(H, W), img_path='vis.png', xml_path='a.xml'),
                instances=[dict(bbox=list(b), bbox_label=0, ignore_flag=0)
                           for b in boxes], **info)


@pytest.mark.parametrize('box, problem', [
    ((W + 20, 5, W + 40, 20), f'lies outside the {H}x{W} image'),
    ((30, 5, 10, 20), 'is empty or inverted'),
    ((10, 5, 10, 20), 'is empty or inverted'),
])
def test_bad_box_is_an_error_naming_file_and_box(box, problem):
    with pytest.raises(InvalidInputFileError) as info:
        LoadDetAnnotations(with_bbox=True)(det_results((1, 2, 3, 4), box))
    message = str(info.value)
    assert message.startswith(f'a.xml: box 1 {[float(v) for v in box]} '
                              f'{problem}'), message


def test_box_past_the_border_is_clipped_with_one_warning_per_file(
        monkeypatch):
    logged = []
    monkeypatch.setattr(loading, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    loader = LoadDetAnnotations(with_bbox=True)
    inside = (0, 0, W + 1, H + 1)  # within the tolerance: left as it is
    for _ in range(2):
        out = loader(det_results(inside, (-5, 10, 30, H + 9)))
    assert out['gt_bboxes'].tensor.tolist() == [
        [0, 0, W + 1, H + 1], [0, 10, 30, H]]
    assert out['instances'][1]['bbox'] == [0, 10, 30, H]  # for the metrics
    assert len(logged) == 1 and logged[0].startswith('a.xml: 1 box(es)')
    assert f'box 1 [-5, 10, 30, {H + 9}] -> [0.0, 10.0, 30.0, {H}.0]' in \
        logged[0], logged
    loader(det_results((-5, 10, 30, 20), xml_path='b.xml'))
    assert len(logged) == 2 and '2 file(s)' in logged[1]


def test_annotation_stating_another_size_is_an_error():
    results = det_results((1, 2, 3, 4), height=H, width=W + 1)
    with pytest.raises(InvalidInputFileError, match=(
            f'a.xml: the annotation states a {H}x{W + 1} image but vis.png '
            f'is {H}x{W}')):
        LoadDetAnnotations(with_bbox=True)(results)
    LoadDetAnnotations(with_bbox=True)(dict(results, width=W))
