"""The downstream protocol on the demo data: tools/fuse_split.py writes a
fused copy of the splits, mmdet's own tools/train.py and tools/test.py train
and test a stock detector on it, its checkpoint warm-starts TDFusion's T,
and tools/analysis_tools/compare_fusions.py compares folders."""
import csv
import glob
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from helpers import build, finish_tool, load_tool, run_tool, start_tool

from tdfusion_mm.evaluation import fusion_metrics
from tdfusion_mm.utils import luma_array

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py')
DOWNSTREAM = osp.join(REPO, 'configs', 'downstream', 'yolox_tiny_demo.py')


def data_options(data_root):
    return ['--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
            f'test_dataloader.dataset.data_root={data_root}']


def ids(root, split):
    with open(osp.join(root, 'splits', f'{split}.txt')) as f:
        return f.read().split()


def mmdet_tool(name):
    """mmdet's own tools/<name>.py, as its package ships them."""
    import mmdet
    path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', name)
    if not osp.isfile(path):
        pytest.skip(f'mmdet ships no {path}')
    return path


@pytest.fixture(scope='module')
def split_copies(demo_root, demo_cfg_module, tmp_path_factory):
    """Two fused copies of the demo splits, made by fuse_split.py at the
    same time: by an (untrained) TDFusion checkpoint, and the infrared
    images as the "fused" ones."""
    tmp = tmp_path_factory.mktemp('downstream')
    _, model, _ = build(demo_cfg_module)
    checkpoint = str(tmp / 'tdfusion.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    source = f'{demo_root}/m3fd'
    fused, infrared = str(tmp / 'fused'), str(tmp / 'ir')
    tools = [
        start_tool(['tools/fuse_split.py', DEMO] + extra +
                   data_options(source + '/'), threads=1)
        for extra in (['--checkpoint', checkpoint, '--out', fused],
                      ['--infrared', '--out', infrared])
    ]
    log = [finish_tool(tool) for tool in tools][0]
    return source, fused, model, log, infrared


@pytest.fixture(scope='module')
def fused_root(split_copies):
    """Source, fused folder, the TDFusion model and fuse_split's log."""
    return split_copies[:4]


@pytest.fixture(scope='module')
def infrared_root(split_copies):
    """The demo splits with the infrared images as the fused ones."""
    return split_copies[4]


@pytest.fixture(scope='module')
def demo_cfg_module(demo_root):
    from mmengine.config import Config
    cfg = Config.fromfile(DEMO)
    for dl in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        dl.dataset.data_root = f'{demo_root}/m3fd/'
    return cfg


def test_fuse_split_writes_the_layout(fused_root):
    source, out, model, log = fused_root
    every = sorted(set(ids(source, 'train')) | set(ids(source, 'test')))
    assert f'{len(every)} image(s)' in log
    assert sorted(osp.splitext(f)[0] for f in os.listdir(f'{out}/Vis')) == \
        every
    for name in ('Ir', 'Annotation', 'splits'):
        assert osp.islink(f'{out}/{name}')
        assert osp.realpath(f'{out}/{name}') == osp.realpath(
            f'{source}/{name}')
    assert not osp.islink(f'{out}/Vis')
    # A fused image is F's output on the pair, the visible colour restored.
    name = every[0]
    ir = cv2.imread(f'{source}/Ir/{name}.png', cv2.IMREAD_UNCHANGED)
    vis = cv2.imread(f'{source}/Vis/{name}.png', cv2.IMREAD_UNCHANGED)
    with torch.no_grad():
        fused = model.eval().fuse(
            torch.from_numpy(luma_array(ir) / 255.).float()[None, None],
            torch.from_numpy(vis / 255.).float().permute(2, 0, 1)[None])
    expected = fused['image'][0].permute(1, 2, 0).numpy() * 255
    written = cv2.imread(f'{out}/Vis/{name}.png').astype(float)
    assert np.abs(written - expected).max() <= 1.0


def test_fuse_split_infrared_and_other_images(demo_root, infrared_root,
                                              tmp_path):
    source = f'{demo_root}/m3fd'
    name = ids(source, 'test')[0]
    assert osp.realpath(f'{infrared_root}/Vis/{name}.png') == osp.realpath(
        f'{source}/Ir/{name}.png')
    # Another method's images: all ids needed, named in the error.
    others = tmp_path / 'others'
    others.mkdir()
    cv2.imwrite(str(others / f'{name}.png'), np.zeros((4, 4), np.uint8))
    proc_out = str(tmp_path / 'others_out')
    message = run_tool(
        ['tools/fuse_split.py', DEMO, '--images', str(others), '--out',
         proc_out] + data_options(source + '/'), REPO, expect_ok=False)
    assert 'have no image in' in message and str(others) in message


def test_stock_mmdet_tools_train_on_the_fused_folder(fused_root, tmp_path):
    """mmdet's own tools/train.py and tools/test.py, with a config of
    configs/downstream/, on the folder made by fuse_split.py; the detector
    it saves then warm-starts TDFusion's T."""
    source, out, _, _ = fused_root
    work_dir = str(tmp_path / 'work')
    env = dict(TASK_DATA_ROOT=out + '/')
    log = run_tool([mmdet_tool('train.py'), DOWNSTREAM, '--work-dir',
                    work_dir, '--cfg-options', 'train_cfg.max_epochs=2',
                    'default_hooks.checkpoint.interval=2'], REPO, env=env)
    assert 'Epoch(train) [2]' in log
    assert f'Using env variable `TASK_DATA_ROOT` with value of {out}/' in log
    checkpoint = osp.join(work_dir, 'epoch_2.pth')
    assert osp.isfile(checkpoint)
    log = run_tool([mmdet_tool('test.py'), DOWNSTREAM, checkpoint,
                    '--work-dir', work_dir], REPO, env=env)
    assert 'pascal_voc/mAP' in log

    # The stock checkpoint warm-starts the TDFusion demo's T (same
    # architecture): loaded strictly.
    from mmengine.config import Config
    cfg = Config.fromfile(DEMO)
    cfg.model.task_checkpoint = checkpoint
    cfg.optim_wrapper.task_model = None
    _, model, _ = build(cfg)
    model.init_weights()
    saved = torch.load(checkpoint, map_location='cpu',
                       weights_only=False)['state_dict']
    for key, value in model.task_model.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_compare_fusions_table(fused_root, infrared_root, tmp_path,
                               monkeypatch, capsys):
    """In this process: four detectors are trained and tested here
    anyway, and the process has torch, mmdet and the formatted configs. The
    Runners' default scope (mmdet) is dropped afterwards."""
    source, out, _, _ = fused_root
    ir_root = infrared_root
    work_dir = str(tmp_path / 'compare')
    tool = load_tool('tools/analysis_tools/compare_fusions.py')
    monkeypatch.setattr(sys, 'argv', [
        'compare_fusions.py', DOWNSTREAM, '--roots', f'fused={out}/',
        f'infrared={ir_root}/', '--seeds', '0', '1', '--work-dir', work_dir,
        '--source-root', source + '/', '--cfg-options',
        'train_cfg.max_epochs=1'])
    with DefaultScope.overwrite_default_scope('mmdet'):
        tool.main()
    log = capsys.readouterr().out
    assert '| images | pascal_voc/mAP (seeds 0 1) | EN | SF |' in log
    with open(osp.join(work_dir, 'comparison.csv')) as f:
        rows = {r['images']: r for r in csv.DictReader(f)}
    assert set(rows) == {'fused', 'infrared'}
    for row in rows.values():
        for seed in (0, 1):
            assert 0 <= float(row[f'pascal_voc/mAP seed {seed}']) <= 1
    # Each seed trained its own detector in its own folder.
    assert len(glob.glob(osp.join(work_dir, '*', 'seed*', 'epoch_1.pth'))) \
        == 4
    # The infrared row scores the infrared images as the fused ones.
    expected = []
    for name in ids(source, 'test'):
        ir = cv2.imread(f'{source}/Ir/{name}.png', cv2.IMREAD_GRAYSCALE)
        vis = luma_array(cv2.imread(f'{source}/Vis/{name}.png'))
        expected.append(fusion_metrics(ir, ir, vis, ['SSIM', 'Qabf']))
    for key in ('SSIM', 'Qabf'):
        assert float(rows['infrared'][key]) == pytest.approx(
            np.mean([e[key] for e in expected]), abs=1e-5)
