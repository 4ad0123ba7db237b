"""Tests of M3FDDataset, LLVIPDataset and make_m3fd_split."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from tdfusion_mm.datasets import LLVIPDataset, M3FDDataset
from tdfusion_mm.registry import DATASETS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _xml(objects, size=(48, 64)):
    """A VOC annotation; objects are (name, (x1, y1, x2, y2), difficult)."""
    size_xml = '' if size is None else (
        f'<size><width>{size[1]}</width><height>{size[0]}</height>'
        '<depth>3</depth></size>')
    objs = ''.join(
        f'<object><name>{name}</name><difficult>{difficult}</difficult>'
        f'<bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>'
        f'<ymax>{b[3]}</ymax></bndbox></object>'
        for name, b, difficult in objects)
    return f'<annotation>{size_xml}{objs}</annotation>'


def _pair(root, ir_dir, vis_dir, img_id, suffix, hw=(48, 64)):
    rng = np.random.default_rng(abs(hash(img_id)) % 2**32)
    for folder, shape in ((ir_dir, hw), (vis_dir, hw + (3, ))):
        path = root / folder / f'{img_id}{suffix}'
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), rng.integers(0, 256, shape, dtype=np.uint8))


def _ann(root, ann_dir, img_id, xml):
    path = root / ann_dir / f'{img_id}.xml'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xml)


def make_m3fd(root, anns):
    """anns: {id: xml}; writes Ir/Vis/Annotation and split.txt."""
    for img_id, xml in anns.items():
        _pair(root, 'Ir', 'Vis', img_id, '.png')
        _ann(root, 'Annotation', img_id, xml)
    (root / 'split.txt').write_text(''.join(f'{i}\n' for i in anns) + '\n')
    return root


def ids(ds):
    return [ds.get_data_info(i)['img_id'] for i in range(len(ds))]


def m3fd(root, **kwargs):
    return M3FDDataset(data_root=str(root), ann_file='split.txt', **kwargs)


def test_m3fd_parses_boxes_labels_and_paths(tmp_path):
    make_m3fd(tmp_path, {
        '00001': _xml([('Car', (11, 21, 31, 41), 0),
                       ('People', (2, 3, 4, 5), 1)]),
        '00002': _xml([('Truck', (1, 1, 10.5, 20), 0)], size=(48, 64)),
    })
    ds = m3fd(tmp_path)
    assert len(ds) == 2
    assert ds.metainfo['classes'] == ('People', 'Car', 'Bus', 'Motorcycle',
                                      'Lamp', 'Truck')
    info = ds.get_data_info(0)
    assert info['img_id'] == '00001'
    assert info['img_path'] == osp.join(str(tmp_path), 'Vis', '00001.png')
    assert info['ir_path'] == osp.join(str(tmp_path), 'Ir', '00001.png')
    assert (info['height'], info['width']) == (48, 64)
    # VOC coordinates are 1-based: minus one, as mmdet's XMLDataset.
    assert info['instances'] == [
        dict(bbox=[10., 20., 30., 40.], bbox_label=1, ignore_flag=0),
        dict(bbox=[1., 2., 3., 4.], bbox_label=0, ignore_flag=1),
    ]
    assert ds.get_data_info(1)['instances'][0]['bbox'] == [0, 0, 9.5, 19]
    assert ds.get_cat_ids(0) == [1, 0]
    assert DATASETS.get('M3FDDataset') is M3FDDataset


def test_m3fd_size_from_image_without_size_tag(tmp_path):
    make_m3fd(tmp_path, {'a': _xml([('Car', (1, 1, 5, 5), 0)], size=None)})
    info = m3fd(tmp_path).get_data_info(0)
    assert (info['height'], info['width']) == (48, 64)


@pytest.mark.parametrize('folder', ['Ir', 'Vis', 'Annotation'])
def test_m3fd_missing_file_is_named(tmp_path, folder):
    make_m3fd(tmp_path, {
        'a': _xml([('Car', (1, 1, 5, 5), 0)]),
        'b': _xml([('Car', (1, 1, 5, 5), 0)]),
    })
    suffix = '.xml' if folder == 'Annotation' else '.png'
    (tmp_path / folder / f'b{suffix}').unlink()
    with pytest.raises(FileNotFoundError) as e:
        m3fd(tmp_path)
    assert osp.join(str(tmp_path), folder, f'b{suffix}') in str(e.value)


def test_m3fd_lazy_init_defers_parsing(tmp_path):
    make_m3fd(tmp_path, {'a': _xml([('Car', (1, 1, 5, 5), 0)])})
    (tmp_path / 'Ir' / 'a.png').unlink()
    ds = m3fd(tmp_path, lazy_init=True)
    with pytest.raises(FileNotFoundError, match='a.png'):
        ds.full_init()


def test_m3fd_unknown_class(tmp_path):
    make_m3fd(tmp_path, {
        'a': _xml([('Car', (1, 1, 5, 5), 0), ('Tram', (2, 2, 6, 6), 0)])
    })
    with pytest.raises(ValueError) as e:
        m3fd(tmp_path)
    assert osp.join(str(tmp_path), 'Annotation', 'a.xml') in str(e.value)
    assert "'Tram'" in str(e.value)
    ds = m3fd(tmp_path, skip_unknown_classes=True)
    assert [i['bbox_label'] for i in ds.get_data_info(0)['instances']] == [1]
    ds = m3fd(
        tmp_path, metainfo=dict(classes=('Tram', )), skip_unknown_classes=True)
    assert [i['bbox_label'] for i in ds.get_data_info(0)['instances']] == [0]


def test_m3fd_class_subset_needs_opt_in(tmp_path):
    make_m3fd(tmp_path, {'a': _xml([('Car', (1, 1, 5, 5), 0)])})
    with pytest.raises(ValueError, match="'Car'"):
        m3fd(tmp_path, metainfo=dict(classes=('People', )))


def test_m3fd_bad_bndbox_and_bad_xml(tmp_path):
    make_m3fd(tmp_path, {'a': '<annotation><object><name>Car</name>'
                              '</object></annotation>'})
    with pytest.raises(ValueError, match='a.xml'):
        m3fd(tmp_path)
    (tmp_path / 'Annotation' / 'a.xml').write_text('<annotation><obj')
    with pytest.raises(ValueError, match='a.xml'):
        m3fd(tmp_path)


def test_m3fd_empty_annotation_and_filters(tmp_path):
    make_m3fd(tmp_path, {
        'a': _xml([('Car', (1, 1, 5, 5), 0)]),
        'empty': _xml([]),
    })
    assert len(m3fd(tmp_path)) == 2
    assert m3fd(tmp_path).get_data_info(1)['instances'] == []
    filt = dict(filter_empty_gt=True)
    assert ids(m3fd(tmp_path, filter_cfg=filt)) == ['a']
    assert len(m3fd(tmp_path, filter_cfg=filt, test_mode=True)) == 2
    assert len(
        m3fd(tmp_path, filter_cfg=dict(min_size=49),
             serialize_data=False)) == 0


def test_m3fd_needs_ann_file(tmp_path):
    make_m3fd(tmp_path, {'a': _xml([])})
    with pytest.raises(ValueError, match='make_m3fd_split'):
        M3FDDataset(data_root=str(tmp_path))


def make_llvip(root):
    for split, ids in (('train', ['010001', '010002']), ('test', ['190001'])):
        for img_id in ids:
            _pair(root, f'infrared/{split}', f'visible/{split}', img_id,
                  '.jpg')
            _ann(root, 'Annotations', img_id,
                 _xml([('person', (3, 4, 20, 30), 0)]))
    return root


def test_llvip_lists_split_folder(tmp_path):
    make_llvip(tmp_path)
    ds = LLVIPDataset(data_root=str(tmp_path))
    assert ids(ds) == ['010001', '010002']
    info = ds.get_data_info(1)
    assert info['ir_path'] == osp.join(str(tmp_path), 'infrared', 'train',
                                       '010002.jpg')
    assert info['instances'] == [
        dict(bbox=[2., 3., 19., 29.], bbox_label=0, ignore_flag=0)
    ]
    test = LLVIPDataset(
        data_root=str(tmp_path),
        data_prefix=dict(img_path='visible/test', ir_path='infrared/test',
                         xml_path='Annotations'))
    assert ids(test) == ['190001']


def test_llvip_ann_file_and_missing_partner(tmp_path):
    make_llvip(tmp_path)
    (tmp_path / 'ids.txt').write_text('010002\n')
    ds = LLVIPDataset(data_root=str(tmp_path), ann_file='ids.txt')
    assert ids(ds) == ['010002']
    (tmp_path / 'infrared' / 'train' / '010001.jpg').unlink()
    with pytest.raises(FileNotFoundError, match='010001.jpg'):
        LLVIPDataset(data_root=str(tmp_path))


def test_llvip_pipeline_end_to_end(tmp_path):
    make_llvip(tmp_path)
    ds = LLVIPDataset(
        data_root=str(tmp_path),
        pipeline=[
            dict(type='tdfusion_mm.LoadIrVisFromFile'),
            dict(type='mmdet.LoadAnnotations', with_bbox=True),
            dict(type='tdfusion_mm.RandomFusionCrop', crop_size=32),
            dict(
                type='tdfusion_mm.PairedTransform',
                transforms=[
                    dict(type='mmdet.Resize', scale=(32, 24),
                         keep_ratio=False)
                ]),
            dict(type='tdfusion_mm.PackFusionDetInputs'),
        ])
    out = ds[0]
    assert out['inputs']['ir'].shape == (1, 24, 32)
    assert out['inputs']['vis'].shape == (3, 24, 32)
    assert out['inputs']['ir_crop'].shape == (1, 32, 32)
    sample = out['data_samples']
    assert sample.ir_path.endswith('010001.jpg')
    assert sample.img_path.endswith('010001.jpg')
    assert sample.img_id == '010001'
    torch.testing.assert_close(sample.gt_instances.bboxes.tensor,
                               torch.tensor([[1., 1.5, 9.5, 14.5]]))


def _load_split_tool():
    spec = importlib.util.spec_from_file_location(
        'make_m3fd_split',
        osp.join(REPO, 'tools', 'dataset_converters', 'make_m3fd_split.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_m3fd_split(tmp_path, monkeypatch):
    tool = _load_split_tool()
    ids = [f'{i:05d}' for i in range(50)]
    train, test = tool.make_split(ids, seed=0, ratio=0.8)
    assert len(train) == 40 and len(test) == 10
    assert sorted(train + test) == ids
    assert (train, test) == tool.make_split(reversed(ids), seed=0)
    assert train != tool.make_split(ids, seed=1)[0]
    with pytest.raises(ValueError):
        tool.make_split(ids, ratio=1.0)

    for i in ids[:5]:
        _ann(tmp_path, 'Annotation', i, _xml([]))
    out = tmp_path / 'splits'
    monkeypatch.setattr('sys.argv', [
        'make_m3fd_split.py', '--data-root',
        str(tmp_path), '--out-dir',
        str(out), '--seed', '0', '--ratio', '0.8', '--mode', 'random'
    ])
    tool.main()
    written = [(out / f'{s}.txt').read_text().split() for s in ('train',
                                                               'test')]
    assert written == list(tool.make_split(ids[:5], seed=0, ratio=0.8))
    assert len(written[0]) == 4


def test_make_m3fd_block_split(tmp_path, monkeypatch):
    tool = _load_split_tool()
    ids = [f'{i:05d}' for i in range(1000)]
    train, test = tool.make_block_split(reversed(ids), seed=0, ratio=0.8,
                                        block_length=50, gap=3)
    assert not set(train) & set(test)
    # Whole blocks of 50 consecutive ids go to the test split.
    numbers = sorted(int(i) for i in test)
    assert len(numbers) == 4 * 50
    starts = {n // 50 for n in numbers}
    assert all(set(range(50 * b, 50 * b + 50)) <= set(numbers)
               for b in starts)
    # No train id within `gap` ids of a test id; only those are left out.
    train_numbers = [int(i) for i in train]
    assert min(abs(a - b) for a in train_numbers for b in numbers) > 3
    left_out = set(range(1000)) - set(numbers) - set(train_numbers)
    assert all(min(abs(n - t) for t in numbers) <= 3 for n in left_out)
    assert 0 < len(left_out) <= 4 * 2 * 3
    # Seeded: the same seed gives the same split, another one another.
    assert (train, test) == tool.make_block_split(ids, 0, 0.8, 50, 3)
    assert test != tool.make_block_split(ids, 1, 0.8, 50, 3)[1]
    # A random split of single ids leaks neighbours, the block split not.
    r_train, r_test = tool.make_split(ids, seed=0, ratio=0.8)
    near = sum(min(abs(int(a) - int(b)) for b in r_train) <= 3
               for a in r_test)
    assert near == len(r_test)
    # Natural order of unpadded ids.
    halves = [str(i) for i in range(10)], [str(i) for i in range(10, 20)]
    assert tool.make_block_split([str(i) for i in range(20)], 0, 0.5, 10,
                                 0)[1] in halves
    with pytest.raises(ValueError, match='block'):
        tool.make_block_split(ids[:60], block_length=50)
    with pytest.raises(ValueError, match='ratio'):
        tool.make_block_split(ids, ratio=0)

    for i in ids[:40]:
        _ann(tmp_path, 'Annotation', i, _xml([]))
    out = tmp_path / 'splits'
    monkeypatch.setattr('sys.argv', [
        'make_m3fd_split.py', '--data-root', str(tmp_path), '--out-dir',
        str(out), '--block-length', '5', '--gap', '1'])
    tool.main()  # blocks by default
    written = [(out / f'{s}.txt').read_text().split() for s in ('train',
                                                               'test')]
    assert written == list(tool.make_block_split(ids[:40], 0, 0.8, 5, 1))
