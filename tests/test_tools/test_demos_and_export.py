"""demo/image_demo.py, demo/video_demo.py, tools/misc/demo_panels.py,
tools/deployment/pytorch2onnx.py and tools/analysis_tools/browse_dataset.py
on demo data."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from helpers import REPO
from helpers import finish_tool, load_tool, run_tool as run, start_tool


@pytest.fixture(scope='module')
def demo_model(tmp_path_factory, demo_root):
    """The demo YOLOX config file on the session's demo data, and a
    checkpoint of its (untrained) model."""
    from helpers import build
    root = tmp_path_factory.mktemp('demo_model')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py'))
    for dl in (cfg.train_dataloader, cfg.val_dataloader,
               cfg.test_dataloader):
        dl.dataset.data_root = f'{demo_root}/m3fd/'
    _, model, _ = build(cfg)
    torch.save(dict(state_dict=model.state_dict()), root / 'det.pth')
    cfg.dump(str(root / 'det_cfg.py'))
    return str(root / 'det_cfg.py'), str(root / 'det.pth')


def test_image_demo(demo_model, demo_root, tmp_path):
    cfg, ckpt = demo_model
    ir, vis = (f'{demo_root}/m3fd/{d}/00001.png' for d in ('Ir', 'Vis'))
    missing = start_tool(['demo/image_demo.py', ir,
                          str(tmp_path / 'none.png'), cfg, ckpt], threads=1)
    log = finish_tool(start_tool(
        ['demo/image_demo.py', ir, vis, cfg, ckpt, '--out-dir',
         str(tmp_path), '--pred-score-thr', '0'], threads=1))
    assert '1 pair(s): fused images, panels and predictions' in log
    h, w = cv2.imread(vis).shape[:2]
    assert cv2.imread(str(tmp_path / 'fused' / '00001.png')).shape == \
        (h, w, 3)
    assert cv2.imread(str(tmp_path / 'vis' / '00001.png')).shape == \
        (h, 3 * w, 3)
    assert (tmp_path / 'preds' / '00001.json').exists()
    log = finish_tool(missing, expect_ok=False)
    assert 'Traceback' not in log and 'none.png' in log


def test_video_demo(demo_model, demo_root, tmp_path):
    cfg, ckpt = demo_model
    names = sorted(os.listdir(f'{demo_root}/m3fd/Vis'))[:4]
    videos = {}
    for folder in ('Ir', 'Vis'):
        frames = [cv2.imread(f'{demo_root}/m3fd/{folder}/{n}')
                  for n in names]
        path = str(tmp_path / f'{folder}.avi')
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                                 frames[0].shape[1::-1])
        for frame in frames:
            writer.write(frame)
        writer.release()
        videos[folder] = path
    out = str(tmp_path / 'fused.avi')
    panels = str(tmp_path / 'panels.avi')  # from two frame folders
    from_folders = start_tool(['demo/video_demo.py', f'{demo_root}/m3fd/Ir',
                               f'{demo_root}/m3fd/Vis', cfg, ckpt, '--out',
                               panels, '--panels'], threads=1)
    log = finish_tool(start_tool(['demo/video_demo.py', videos['Ir'],
                                  videos['Vis'], cfg, ckpt, '--out', out],
                                 threads=1))
    assert '4 frame(s) fused' in log and 'frames/s' in log
    capture = cv2.VideoCapture(out)
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 4
    ok, frame = capture.read()
    assert ok and frame.shape[:2] == (64, 80)
    finish_tool(from_folders)
    ok, frame = cv2.VideoCapture(panels).read()
    assert ok and frame.shape[:2] == (64, 240)
    assert not [f for f in os.listdir(tmp_path) if 'tmp' in f]


def test_demo_panels(demo_model, tmp_path):
    cfg, ckpt = demo_model
    out = str(tmp_path / 'panels')
    log = run(['tools/misc/demo_panels.py', cfg, ckpt, '--out', out,
               '--max-images', '2', '--min-height', '128'])
    assert "2 panel(s) written" in log and "G's w_ir" in log
    files = sorted(os.listdir(out))
    assert len(files) == 2
    # 64x80 images enlarged twice: IR | visible | fused | w_ir | T's
    # predictions.
    panel = cv2.imread(osp.join(out, files[0]))
    assert panel.shape == (128, 5 * 160, 3)
    ir_tile, fused_tile = panel[:, :160], panel[:, 320:480]
    assert not np.array_equal(ir_tile, fused_tile)


def write_video(path, frames):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return str(path)


@pytest.mark.parametrize('longer', ['ir', 'vis'])
def test_video_demo_warns_about_dropped_frames(tmp_path, capsys, longer):
    video_demo = load_tool('demo/video_demo.py')
    frames = [np.full((16, 24, 3), 20 * i, np.uint8) for i in range(5)]
    counts = dict(ir=5, vis=3) if longer == 'ir' else dict(ir=3, vis=5)
    paths = {k: write_video(tmp_path / f'{k}.avi', frames[:n])
             for k, n in counts.items()}
    _, pairs = video_demo.frame_pairs(paths['ir'], paths['vis'])
    assert len(list(pairs)) == 3
    assert capsys.readouterr().err == (
        f'warning: {paths[longer]} has 5 frames, the other video 3: its '
        'last 2 frame(s) were dropped\n')
    _, pairs = video_demo.frame_pairs(paths['ir'], paths['ir'])
    assert len(list(pairs)) == counts['ir']
    assert capsys.readouterr().err == ''


def test_pytorch2onnx_tool(tmp_path):
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    from tdfusion_mm.models.fusion_backbones import ReFusion
    cfg = dict(type='ReFusion', dim=8, num_blocks=1, num_heads=2)
    (tmp_path / 'cfg.py').write_text(f'model = dict(fusion_backbone={cfg!r})\n')
    torch.manual_seed(1)
    torch.save(ReFusion(dim=8, num_blocks=1, num_heads=2).state_dict(),
               tmp_path / 'f.pth')
    out = str(tmp_path / 'f.onnx')
    log = run(['tools/deployment/pytorch2onnx.py', str(tmp_path / 'cfg.py'),
               str(tmp_path / 'f.pth'), '--out', out, '--verify', '31x45',
               '64x64', '57x99'])
    diffs = [float(line.split('= ')[1]) for line in log.splitlines()
             if 'max |ONNX Runtime - PyTorch|' in line]
    assert len(diffs) == 3 and max(diffs) < 1e-4


def test_browse_dataset(demo_root, tmp_path):
    """Both demo configs (detection and segmentation), started together."""
    runs = {}
    for config, layout in (('tdfusion_yolo_demo.py', 'm3fd'),
                           ('tdfusion_segformer_demo.py', 'msrs')):
        out = str(tmp_path / layout)
        options = [f'train_dataloader.dataset.data_root={demo_root}/{layout}/']
        runs[out] = start_tool(['tools/analysis_tools/browse_dataset.py',
                                f'configs/{config}', '--output-dir', out,
                                '--not-show', '--max-items', '2',
                                '--cfg-options'] + options, threads=1)
    for out, tool in runs.items():
        assert '2 item(s) drawn' in finish_tool(tool)
        files = sorted(os.listdir(out))
        assert len(files) == 2
        row = cv2.imread(osp.join(out, files[0]))
        # IR | visible at the task size (96x128), then the two 64x64 crops
        # scaled to the row's height.
        assert row.shape == (96, 2 * 128 + 2 * 96, 3)
        ir_tile, vis_tile = row[:, :128], row[:, 128:256]
        assert not np.array_equal(ir_tile, vis_tile)
