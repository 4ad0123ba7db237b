"""The demo dataset (:mod:`tdfusion_mm.testing.demo_dataset`): its two
layouts, the scenes as written (warm objects, labels matching boxes), a
fixed output for a seed, reuse and refusal of foreign data."""
import hashlib
import json
import os
import os.path as osp
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from tdfusion_mm.testing import (M3FD_CLASSES, MSRS_CLASSES,
                                 generate_demo_dataset)

# MSRS label of each M3FD class drawn with a mask.
MSRS_LABEL = dict(People=2, Car=1, Bus=1, Truck=1, Motorcycle=3)


def _hashes(root):
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path,
                                root)] = hashlib.sha1(f.read()).hexdigest()
    return out


def _read_boxes(path):
    tree = ET.parse(path).getroot()
    return tree, [(obj.find('name').text, [
        int(obj.find(f'bndbox/{k}').text)
        for k in ('xmin', 'ymin', 'xmax', 'ymax')
    ]) for obj in tree.findall('object')]


def _scenes(result):
    """(split, id, ir, vis, label, boxes) for every scene written."""
    m3fd, msrs = result['m3fd'], result['msrs']
    for split in ('train', 'test'):
        with open(m3fd['splits'][split]) as f:
            ids = f.read().split()
        for i in ids:
            ir = cv2.imread(
                osp.join(m3fd['ir'], f'{i}.png'), cv2.IMREAD_UNCHANGED)
            vis = cv2.imread(
                osp.join(m3fd['vis'], f'{i}.png'), cv2.IMREAD_UNCHANGED)
            label = cv2.imread(
                osp.join(msrs[split]['Label'], f'{i}.png'),
                cv2.IMREAD_UNCHANGED)
            _, boxes = _read_boxes(osp.join(m3fd['ann'], f'{i}.xml'))
            yield split, i, ir, vis, label, boxes


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    return generate_demo_dataset(str(tmp_path_factory.mktemp('demo')))


def test_layout_and_counts(demo):
    assert demo['generated'] and demo['num_train'] == 24
    assert demo['num_test'] == 8
    root = demo['root']
    with open(demo['m3fd']['splits']['train']) as f:
        train = f.read().split()
    with open(demo['m3fd']['splits']['test']) as f:
        test = f.read().split()
    assert train == [f'{i:05d}' for i in range(24)]
    assert test == [f'{i:05d}' for i in range(24, 32)]
    for sub in ('Ir', 'Vis'):
        assert sorted(os.listdir(osp.join(
            root, 'm3fd', sub))) == [f'{i}.png' for i in train + test]
    assert len(os.listdir(osp.join(root, 'm3fd', 'Annotation'))) == 32
    for split, ids in (('train', train), ('test', test)):
        for sub in ('ir', 'vi', 'Label'):
            assert sorted(os.listdir(osp.join(root, 'msrs', split, sub))) \
                == [f'{i}.png' for i in ids]
    with open(demo['meta']) as f:
        meta = json.load(f)
    assert meta['complete'] and meta['params']['seed'] == 0
    assert sum(demo['num_boxes'].values()) > 32
    for name in ('People', 'Car', 'Lamp'):
        assert demo['num_boxes'][name] > 0


def test_images(demo):
    msrs = demo['msrs']
    for split, i, ir, vis, label, _ in _scenes(demo):
        assert ir.shape == (96, 128) and ir.dtype == np.uint8
        assert vis.shape == (96, 128, 3) and vis.dtype == np.uint8
        assert label.shape == (96, 128) and label.dtype == np.uint8
        assert label.max() <= 8
        # Both layouts hold the same scene.
        np.testing.assert_array_equal(
            cv2.imread(
                osp.join(msrs[split]['ir'], f'{i}.png'), cv2.IMREAD_UNCHANGED),
            ir)
        np.testing.assert_array_equal(
            cv2.imread(osp.join(msrs[split]['vi'], f'{i}.png')), vis)
        # A dark colour visible image, a brighter infrared one.
        grey = cv2.cvtColor(vis, cv2.COLOR_BGR2GRAY)
        assert grey.mean() < ir.mean()
        assert np.abs(vis[..., 0].astype(int) - vis[..., 2]).mean() > 3


def test_annotations(demo):
    touching, overlapping = 0, 0
    for _, i, _, _, _, _ in _scenes(demo):
        root, boxes = _read_boxes(osp.join(demo['m3fd']['ann'], f'{i}.xml'))
        assert root.find('filename').text == f'{i}.png'
        assert root.find('size/width').text == '128'
        assert root.find('size/height').text == '96'
        assert root.find('size/depth').text == '3'
        for obj in root.findall('object'):
            assert obj.find('difficult').text == '0'
        for name, (x1, y1, x2, y2) in boxes:
            assert name in M3FD_CLASSES
            # VOC: 1-based inclusive pixel coordinates.
            assert 1 <= x1 < x2 <= 128 and 1 <= y1 < y2 <= 96
            touching += x1 == 1 or y1 == 1 or x2 == 128 or y2 == 96
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = (boxes[a][1],
                                                              boxes[b][1])
                overlapping += (
                    min(ax2, bx2) >= max(ax1, bx1)
                    and min(ay2, by2) >= max(ay1, by1))
    # Some objects are cut by the border, some overlap (occlusion).
    assert touching > 0 and overlapping > 0


def test_warm_objects(demo):
    num = 0
    for _, _, ir, vis, _, boxes in _scenes(demo):
        ir = ir.astype(np.float64)
        grey = cv2.cvtColor(vis, cv2.COLOR_BGR2GRAY).astype(np.float64)
        in_box = np.zeros(ir.shape, bool)
        for _, (x1, y1, x2, y2) in boxes:
            in_box[y1 - 1:y2, x1 - 1:x2] = True
        for name, (x1, y1, x2, y2) in boxes:
            box = (slice(y1 - 1, y2), slice(x1 - 1, x2))
            ring = np.zeros(ir.shape, bool)
            ring[max(y1 - 5, 0):y2 + 4, max(x1 - 5, 0):x2 + 4] = True
            ring &= ~in_box
            if ring.sum() >= 10:
                # Brighter in infrared than the background around it.
                assert ir[box].mean() > ir[ring].mean() + 15, (name, x1, y1)
                num += 1
            if name in MSRS_LABEL:
                assert grey[box].mean() + 20 < ir[box].mean(), (name, x1, y1)
    assert num > 50


def test_labels_match_boxes(demo):
    in_box_pixels = {2: 0, 1: 0}
    total_pixels = {2: 0, 1: 0}
    found = set()
    for _, _, _, _, label, boxes in _scenes(demo):
        found |= set(np.unique(label).tolist())
        in_box = {
            2: np.zeros(label.shape, bool),
            1: np.zeros(label.shape, bool)
        }
        for name, (x1, y1, x2, y2) in boxes:
            if name not in MSRS_LABEL:
                continue
            crop = label[y1 - 1:y2, x1 - 1:x2]
            cls = MSRS_LABEL[name]
            # The box is tight around pixels of its class.
            assert (crop[0] == cls).any() and (crop[-1] == cls).any()
            assert (crop[:, 0] == cls).any() and (crop[:, -1] == cls).any()
            if cls in in_box:
                in_box[cls][y1 - 1:y2, x1 - 1:x2] = True
        for cls, mask in in_box.items():
            total_pixels[cls] += (label == cls).sum()
            in_box_pixels[cls] += (mask & (label == cls)).sum()
    # Only tiny, unannotated objects lie outside the boxes.
    for cls in (1, 2):
        assert in_box_pixels[cls] > 0.97 * total_pixels[cls]
    assert {0, 1, 2, 3, 4} <= found


def test_deterministic(tmp_path):
    kwargs = dict(num_train=3, num_test=2, height=64, width=80)
    a = generate_demo_dataset(str(tmp_path / 'a'), seed=3, **kwargs)
    b = generate_demo_dataset(str(tmp_path / 'b'), seed=3, **kwargs)
    c = generate_demo_dataset(str(tmp_path / 'c'), seed=4, **kwargs)
    hash_a, hash_b = _hashes(a['root']), _hashes(b['root'])
    hash_c = _hashes(c['root'])
    assert len(hash_a) == 5 * 6 + 2 + 1
    assert hash_a == hash_b and a['num_boxes'] == b['num_boxes']
    for sub in ('Ir', 'Vis'):
        for i in range(5):
            key = osp.join('m3fd', sub, f'{i:05d}.png')
            assert hash_a[key] != hash_c[key]


def test_idempotent(tmp_path):
    root = str(tmp_path / 'demo')
    kwargs = dict(num_train=3, num_test=2, height=48, width=64)
    first = generate_demo_dataset(root, **kwargs)
    stamps = {
        path: os.stat(osp.join(root, path)).st_mtime_ns
        for path in _hashes(root)
    }
    again = generate_demo_dataset(root, **kwargs)
    assert first['generated'] and not again['generated']
    assert again['num_boxes'] == first['num_boxes']
    assert {
        path: os.stat(osp.join(root, path)).st_mtime_ns
        for path in _hashes(root)
    } == stamps

    # A missing file or other parameters make it regenerate, without leftovers.
    os.remove(osp.join(root, 'msrs', 'test', 'Label', '00004.png'))
    assert generate_demo_dataset(root, **kwargs)['generated']
    assert osp.isfile(osp.join(root, 'msrs', 'test', 'Label', '00004.png'))
    smaller = generate_demo_dataset(
        root, num_train=2, num_test=1, height=48, width=64)
    assert smaller['generated']
    assert sorted(os.listdir(osp.join(
        root, 'm3fd', 'Ir'))) == ['00000.png', '00001.png', '00002.png']


def test_refuses_foreign_data(tmp_path):
    os.makedirs(tmp_path / 'm3fd' / 'Ir')
    with pytest.raises(FileExistsError):
        generate_demo_dataset(str(tmp_path), num_train=1, num_test=1)
    with pytest.raises(ValueError):
        generate_demo_dataset(str(tmp_path / 'x'), height=16)


def test_classes_and_difficult_boxes(tmp_path):
    result = generate_demo_dataset(
        str(tmp_path), num_train=12, num_test=0, height=96, width=128,
        classes=('Car', 'People'), difficult_below=8)
    assert set(result['num_boxes']) == {'People', 'Car'}
    assert result['num_boxes']['People'] > 0 and result['num_boxes']['Car'] > 0
    names, difficult = set(), []
    for xml in os.listdir(osp.join(str(tmp_path), 'm3fd', 'Annotation')):
        root = ET.parse(osp.join(str(tmp_path), 'm3fd', 'Annotation',
                                 xml)).getroot()
        for obj in root.iter('object'):
            names.add(obj.findtext('name'))
            box = [int(obj.find('bndbox').findtext(k))
                   for k in ('xmin', 'ymin', 'xmax', 'ymax')]
            short = min(box[2] - box[0], box[3] - box[1]) + 1
            difficult.append((short < 8, obj.findtext('difficult') == '1'))
    assert names == {'People', 'Car'}
    assert all(small == flag for small, flag in difficult)
    assert any(flag for _, flag in difficult)
    assert any(not flag for _, flag in difficult)
    # Buses, trucks and motorcycles are not drawn at all: no bike pixels.
    for name in os.listdir(osp.join(str(tmp_path), 'msrs', 'train', 'Label')):
        label = cv2.imread(osp.join(str(tmp_path), 'msrs', 'train', 'Label',
                                    name), cv2.IMREAD_UNCHANGED)
        assert not (label == MSRS_CLASSES.index('bike')).any()
    with pytest.raises(ValueError, match='classes'):
        generate_demo_dataset(str(tmp_path / 'x'), classes=('Dog', ))
