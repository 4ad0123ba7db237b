"""Label values are checked when loaded, and tools/misc/check_dataset.py
checks a config's datasets in full."""
import os.path as osp
import glob
import importlib.util
import os
import re
import sys

import cv2
import pytest
from helpers import load_tool
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tdfusion_mm.testing import generate_demo_dataset
from tdfusion_mm.registry import DATASETS
from tdfusion_mm.utils.user_errors import InvalidInputFileError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'misc', 'check_dataset.py')


@pytest.fixture
def data(tmp_path):
    """A small demo dataset of our own (the tests break its files)."""
    return generate_demo_dataset(str(tmp_path / 'demo'), num_train=3,
                                 num_test=2, height=32, width=40, seed=1,
                                 classes=('People', 'Car'))


def seg_dataset(msrs_root, split='train'):
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'tdfusion_segformer_demo.py'))
    loader = cfg.train_dataloader if split == 'train' else cfg.test_dataloader
    init_default_scope('tdfusion_mm')
    return DATASETS.build(dict(loader.dataset, data_root=msrs_root))


@pytest.mark.parametrize('split', ['train', 'test'])
def test_label_out_of_range_names_the_file(data, split):
    label_dir = data['msrs'][split]['Label']
    path = osp.join(label_dir, '00000.png' if split == 'train' else
                    '00003.png')
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    label[2, 3] = 50  # 9 MSRS classes: 0-8, ignore index 255
    cv2.imwrite(path, label)
    dataset = seg_dataset(data['msrs']['root'], split)
    index = [i for i in range(len(dataset))
             if dataset.get_data_info(i)['seg_map_path'] == path][0]
    with pytest.raises(InvalidInputFileError) as info:
        dataset[index]
    assert path in str(info.value) and '[50]' in str(info.value)
    dataset[(index + 1) % len(dataset)]  # the others load
    label[2, 3] = 255  # the ignore index is allowed
    cv2.imwrite(path, label)
    dataset[index]


def check(config, data_root, capsys, monkeypatch):
    """Run tools/misc/check_dataset.py (in this process: faster)."""
    spec = importlib.util.spec_from_file_location('check_dataset', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(sys, 'argv', [
        TOOL, osp.join(REPO, 'configs', config), '--data-root', data_root])
    capsys.readouterr()
    code = tool.run_tool(tool.main)
    return code, capsys.readouterr().out


def test_check_dataset_passes_clean_data(data, capsys, monkeypatch):
    code, out = check('tdfusion_segformer_demo.py', data['msrs']['root'],
                      capsys, monkeypatch)
    assert code == 0, out
    assert re.search(r'\[train\] MSRSDataset .*: 3 pair\(s\) checked, 0 '
                     r'problem', out), out
    assert re.search(r'\[val\+test\] .*: 2 pair\(s\) checked', out), out
    code, out = check('tdfusion_yolo_demo.py', data['m3fd']['root'], capsys,
                      monkeypatch)
    assert code == 0 and 'No problem found' in out, out


@pytest.mark.parametrize('config, dataset', [
    ('downstream/yolox_tiny_demo.py', 'm3fd'),  # a wrapped training set
    ('downstream/segformer_mit-b0_msrs.py', 'msrs'),
])
def test_check_dataset_reads_stock_downstream_configs(config, dataset, data,
                                                      capsys, monkeypatch):
    """Their default scope is mmdet's or mmseg's, their pipelines stock."""
    code, out = check(config, data[dataset]['root'], capsys, monkeypatch)
    assert code == 0, out
    assert re.search(r'\[train\] (M3FD|MSRS)Dataset .*: 3 pair\(s\) '
                     r'checked, 0 problem', out), out
    assert re.search(r'\[val\+test\] .*: 2 pair\(s\) checked', out), out


def test_check_dataset_reports_every_problem_with_its_file(data, capsys,
                                                         monkeypatch):
    msrs = data['msrs']
    # train: a truncated visible image, an infrared image of another size,
    # a label value out of range; test: a missing label map.
    vis = osp.join(msrs['train']['vi'], '00000.png')
    content = open(vis, 'rb').read()
    open(vis, 'wb').write(content[:len(content) // 2])
    ir = osp.join(msrs['train']['ir'], '00001.png')
    cv2.imwrite(ir, cv2.resize(cv2.imread(ir, 0), (20, 16)))
    label_path = osp.join(msrs['train']['Label'], '00002.png')
    label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
    label[0, 0] = 9
    cv2.imwrite(label_path, label)
    missing = osp.join(msrs['test']['Label'], '00004.png')
    os.remove(missing)
    code, out = check('tdfusion_segformer_demo.py', msrs['root'], capsys,
                      monkeypatch)
    assert code == 1, out
    assert re.search(f'truncated: {re.escape(vis)}', out), out
    assert re.search(f'{re.escape(ir)}: infrared image is 16x20', out), out
    assert re.search(f'{re.escape(label_path)} holds value\\(s\\) \\[9\\]',
                     out), out
    assert re.search(f'does not exist: {re.escape(missing)}', out), out
    assert '4 problem(s) found' in out, out

    # Boxes outside the image, and an annotation stating another size.
    ann = [path for path in sorted(glob.glob(osp.join(data['m3fd']['ann'],
                                                       '*.xml')))
           if '<object>' in open(path).read()][0]
    xml = open(ann).read()
    xml = re.sub(r'<xmax>\d+</xmax>', '<xmax>400</xmax>', xml, count=1)
    xml = re.sub(r'<width>\d+</width>', '<width>41</width>', xml)
    open(ann, 'w').write(xml)
    code, out = check('tdfusion_yolo_demo.py', data['m3fd']['root'], capsys,
                      monkeypatch)
    assert code == 1, out
    assert re.search(f'{re.escape(ann)}: box 0 .* is not inside the 32x40 '
                     'image', out), out
    assert re.search(f'{re.escape(ann)}: the annotation states a 32x41 '
                     'image', out), out


def test_check_dataset_hints_at_one_cause_of_alike_problems(data, capsys,
                                                           monkeypatch):
    """A split without annotation files: one hint after its problems."""
    m3fd = data['m3fd']
    split_file = osp.join(m3fd['root'], 'splits', 'test.txt')
    test_ids = open(split_file).read().split()
    for img_id in test_ids:
        os.remove(osp.join(m3fd['ann'], f'{img_id}.xml'))
    code, out = check('tdfusion_yolo_demo.py', m3fd['root'], capsys,
                      monkeypatch)
    assert code == 1, out
    hints = [line for line in out.splitlines() if 'hint:' in line]
    assert hints == [
        f'[val+test] hint: {len(test_ids)} pairs of the val+test split have '
        'no annotation file (e.g. '
        f'{osp.join(m3fd["ann"], test_ids[0] + ".xml")}): if the split has '
        'no annotations, check the others only (--splits train)'], out
    # Problems of several kinds: no hint.
    vis = osp.join(m3fd['vis'], f'{test_ids[0]}.png')
    os.remove(vis)
    code, out = check('tdfusion_yolo_demo.py', m3fd['root'], capsys,
                      monkeypatch)
    assert code == 1 and 'hint:' not in out, out


def det_dataset(m3fd_root):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py'))
    init_default_scope('tdfusion_mm')
    return DATASETS.build(dict(cfg.train_dataloader.dataset,
                               data_root=m3fd_root))


def index_of(dataset, key, path):
    return [i for i in range(len(dataset))
            if dataset.get_data_info(i)[key] == path][0]


def test_training_refuses_a_label_map_of_another_size(data):
    path = osp.join(data['msrs']['train']['Label'], '00001.png')
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    cv2.imwrite(path, label[::2, ::2])  # 16x20 beside a 32x40 pair
    dataset = seg_dataset(data['msrs']['root'])
    with pytest.raises(InvalidInputFileError) as info:
        dataset[index_of(dataset, 'seg_map_path', path)]
    assert str(info.value).startswith(
        f'{path}: the label map is 16x20 (HxW) but the image '), info.value


@pytest.mark.parametrize('xmin, xmax, problem', [
    (201, 241, 'lies outside the 32x40 image'),  # 1-based VOC corners
    (31, 13, 'is empty or inverted'),
])
def test_training_refuses_a_bad_box(data, xmin, xmax, problem):
    ann = [path for path in sorted(glob.glob(osp.join(data['m3fd']['ann'],
                                                       '*.xml')))
           if '<object>' in open(path).read()][0]
    xml = re.sub(r'<xmin>\d+</xmin>', f'<xmin>{xmin}</xmin>',
                 open(ann).read(), count=1)
    open(ann, 'w').write(re.sub(r'<xmax>\d+</xmax>', f'<xmax>{xmax}</xmax>',
                                xml, count=1))
    dataset = det_dataset(data['m3fd']['root'])
    with pytest.raises(InvalidInputFileError) as info:
        dataset[index_of(dataset, 'xml_path', ann)]
    assert re.match(rf'{re.escape(ann)}: box 0 \[{xmin - 1}\.0, [\d.]+, '
                    rf'{xmax - 1}\.0, [\d.]+\] {problem}',
                    str(info.value)), info.value


def test_train_reports_bad_data_in_one_line(data, capsys, monkeypatch,
                                            tmp_path):
    """tools/train.py meets an infrared image of another size."""
    ir = osp.join(data['m3fd']['ir'], '00001.png')
    cv2.imwrite(ir, cv2.resize(cv2.imread(ir, 0), (30, 24)))
    train = load_tool('tools/train.py')
    root = data['m3fd']['root']
    monkeypatch.setattr(sys, 'argv', [
        'train.py', osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py'),
        '--work-dir', str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'])
    capsys.readouterr()
    assert train.run_tool(train.main) == 1
    err = capsys.readouterr().err
    assert 'Traceback' not in err, err[-3000:]
    assert err.splitlines()[-1].startswith(
        f'error: {ir}: the infrared image is 24x30 (HxW) but the visible '
        'image '), err[-2000:]
    assert open(tmp_path / 'work' / 'train.lock').read() == ''
