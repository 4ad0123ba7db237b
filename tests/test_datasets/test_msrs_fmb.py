"""Tests of MSRSDataset and FMBDataset (mmseg dataset API)."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmseg.datasets import BaseSegDataset

from tdfusion_mm.datasets import FMBDataset, MSRSDataset
from tdfusion_mm.registry import DATASETS

MSRS_FOLDERS = dict(img_path='vi', ir_path='ir', seg_map_path='Label')
FMB_FOLDERS = dict(
    img_path='Visible', ir_path='Infrared', seg_map_path='Label')


def make_split(root, split, ids, folders, num_labels=9, hw=(24, 32)):
    """Write pairs and label maps named ``<id>.png`` under root/split."""
    rng = np.random.default_rng(0)
    for img_id in ids:
        for key, folder in folders.items():
            shape = hw + (3, ) if key == 'img_path' else hw
            high = num_labels if key == 'seg_map_path' else 256
            path = root / split / folder / f'{img_id}.png'
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), rng.integers(0, high, shape, np.uint8))
    return root


def prefix(split, folders):
    return {key: f'{split}/{folder}' for key, folder in folders.items()}


def paths(ds, key):
    return [osp.basename(ds.get_data_info(i)[key]) for i in range(len(ds))]


def test_msrs_official_layout_and_classes(tmp_path):
    make_split(tmp_path, 'train', ['00002N', '00001D'], MSRS_FOLDERS)
    make_split(tmp_path, 'test', ['00009N'], MSRS_FOLDERS)
    ds = MSRSDataset(data_root=str(tmp_path))
    assert isinstance(ds, BaseSegDataset)
    assert paths(ds, 'img_path') == ['00001D.png', '00002N.png']  # sorted
    info = ds.get_data_info(0)
    for key, folder in MSRS_FOLDERS.items():
        assert info[key] == osp.join(str(tmp_path), 'train', folder,
                                     '00001D.png')
    assert info['reduce_zero_label'] is False and info['seg_fields'] == []
    # 9 classes, `unlabelled` (0) is one of them; 255 only marks padding.
    assert len(ds.metainfo['classes']) == 9
    assert ds.metainfo['classes'][0] == 'unlabelled'
    assert len(ds.metainfo['palette']) == 9
    assert ds.ignore_index == 255 and ds.reduce_zero_label is False
    test = MSRSDataset(
        data_root=str(tmp_path), data_prefix=prefix('test', MSRS_FOLDERS),
        test_mode=True)
    assert paths(test, 'ir_path') == ['00009N.png']


def test_msrs_split_file_keeps_its_order(tmp_path):
    make_split(tmp_path, 'train', ['a', 'b', 'c'], MSRS_FOLDERS)
    (tmp_path / 'splits').mkdir()
    (tmp_path / 'splits' / 'bench.txt').write_text('c\n\n a \n')
    ds = MSRSDataset(data_root=str(tmp_path), ann_file='splits/bench.txt')
    assert paths(ds, 'img_path') == ['c.png', 'a.png']
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        MSRSDataset(data_root=str(tmp_path), ann_file='nope.txt')


def test_msrs_label_folder_is_a_data_prefix_key(tmp_path):
    folders = dict(MSRS_FOLDERS, seg_map_path='Segmentation_labels')
    make_split(tmp_path, 'train', ['x'], folders)
    ds = DATASETS.build(
        dict(type='MSRSDataset', data_root=str(tmp_path),
             data_prefix=prefix('train', folders)))
    assert ds.get_data_info(0)['seg_map_path'].endswith(
        osp.join('Segmentation_labels', 'x.png'))
    # Without a label folder: pairs only (e.g. to fuse a test split).
    ds = MSRSDataset(
        data_root=str(tmp_path),
        data_prefix=dict(img_path='train/vi', ir_path='train/ir'))
    assert 'seg_map_path' not in ds.get_data_info(0)


@pytest.mark.parametrize('missing', ['ir', 'Label', 'vi'])
def test_msrs_missing_partner_is_named(tmp_path, missing):
    make_split(tmp_path, 'train', ['a', 'b'], MSRS_FOLDERS)
    (tmp_path / 'train' / missing / 'b.png').unlink()
    (tmp_path / 'split.txt').write_text('a\nb\n')
    with pytest.raises(FileNotFoundError) as e:
        MSRSDataset(data_root=str(tmp_path), ann_file='split.txt')
    assert osp.join(str(tmp_path), 'train', missing, 'b.png') in str(e.value)


def test_msrs_empty_folder_and_bad_prefix(tmp_path):
    (tmp_path / 'train' / 'vi').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='No .png image in'):
        MSRSDataset(data_root=str(tmp_path))
    with pytest.raises(KeyError, match='ir_path'):
        MSRSDataset(data_root=str(tmp_path),
                    data_prefix=dict(img_path='train/vi'))


def test_fmb_official_layout_and_classes(tmp_path):
    make_split(tmp_path, 'train', ['0001'], FMB_FOLDERS, num_labels=15)
    make_split(tmp_path, 'test', ['0100', '0099'], FMB_FOLDERS,
               num_labels=15)
    ds = FMBDataset(data_root=str(tmp_path))
    info = ds.get_data_info(0)
    for key, folder in FMB_FOLDERS.items():
        assert info[key] == osp.join(str(tmp_path), 'train', folder,
                                     '0001.png')
    # 14 classes plus `background` (0), which counts in the mIoU.
    classes = ds.metainfo['classes']
    assert len(classes) == 15 and len(ds.metainfo['palette']) == 15
    assert classes[0] == 'background' and classes[-1] == 'Pole'
    assert ds.reduce_zero_label is False and ds.ignore_index == 255
    test = DATASETS.build(
        dict(type='FMBDataset', data_root=str(tmp_path),
             data_prefix=prefix('test', FMB_FOLDERS), test_mode=True))
    assert paths(test, 'seg_map_path') == ['0099.png', '0100.png']


def test_loaded_labels_keep_every_class(tmp_path):
    """Label 0 is kept as class 0 (not turned into 255) by the pipeline."""
    make_split(tmp_path, 'train', ['a'], MSRS_FOLDERS)
    label = cv2.imread(str(tmp_path / 'train' / 'Label' / 'a.png'),
                       cv2.IMREAD_UNCHANGED)
    ds = MSRSDataset(
        data_root=str(tmp_path),
        pipeline=[dict(type='mmseg.LoadAnnotations')])
    np.testing.assert_array_equal(ds[0]['gt_seg_map'], label)
    assert (label == 0).any()
