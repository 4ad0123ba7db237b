"""tools/fuse.py, tools/eval_fusion.py and plot_curves.py end to end.

Each tool runs as a subprocess (independent runs start together); the
error cases call the tools' functions in-process, which is faster.
"""
import csv
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from tdfusion_mm.evaluation import fusion_metrics
from tdfusion_mm.models.fusion_backbones import ReFusion

from helpers import finish_tool, load_tool, run_tool as run, start_tool


def write_images(folder, names, shape, colour, seed, ext='.png'):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        size = shape + ((3, ) if colour else ())
        cv2.imwrite(osp.join(folder, name + ext),
                    rng.integers(0, 256, size, dtype=np.uint8))


def test_eval_fusion(tmp_path):
    names = ['a', 'b', 'c']
    fused, ir, vis = (str(tmp_path / d) for d in ('fused', 'ir', 'vis'))
    write_images(fused, names, (40, 48), True, 0)
    write_images(ir, names, (40, 48), False, 1, ext='.jpg')
    write_images(vis, names, (40, 48), True, 2)
    out = str(tmp_path / 'out')
    log = run(['tools/eval_fusion.py', fused, ir, vis, '--out', out,
               '--reduce', 'sum'])
    assert '| 3 images | EN |' in log
    with open(osp.join(out, 'per_image.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['name'] for r in rows] == names
    # Row 'b' equals the library on the same 8-bit luma images.
    luma = [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2YCrCb)[..., 0]
            for p in (f'{fused}/b.png', f'{vis}/b.png')]
    expected = fusion_metrics(luma[0], cv2.imread(f'{ir}/b.jpg', 0), luma[1],
                              reduce='sum')
    for name, value in expected.items():
        assert float(rows[1][name]) == pytest.approx(value, abs=1e-5)
    with open(osp.join(out, 'summary.csv')) as f:
        summary = {r['statistic']: r for r in csv.DictReader(f)}
    assert float(summary['mean']['SSIM']) == pytest.approx(
        np.mean([float(r['SSIM']) for r in rows]), abs=1e-5)
    assert '| mean |' in open(osp.join(out, 'summary.md')).read()



def test_eval_fusion_errors_name_the_files(tmp_path):
    from tdfusion_mm.apis import UserError
    tool = load_tool('tools/eval_fusion.py')
    fused, ir, vis = (str(tmp_path / d) for d in ('fused', 'ir', 'vis'))
    write_images(fused, ['a', 'b'], (20, 24), False, 0)
    write_images(ir, ['a', 'b'], (20, 24), False, 1)
    write_images(vis, ['a'], (20, 24), False, 2)
    with pytest.raises(UserError, match=r"missing in .*vis: \['b'\]"):
        tool.match(fused, ir, vis)
    write_images(fused, ['c'], (20, 24), False, 0)
    write_images(ir, ['c'], (20, 24), False, 1)
    write_images(vis, ['b', 'c'], (20, 24), False, 2)
    write_images(vis, ['b'], (20, 24), False, 2, ext='.jpg')
    with pytest.raises(UserError, match="two images named 'b'"):
        tool.match(fused, ir, vis)
    os.remove(f'{vis}/b.jpg')
    write_images(ir, ['d'], (20, 24), False, 1)
    write_images(vis, ['d'], (20, 24), False, 1)
    with pytest.raises(UserError, match=r"missing in .*fused: \['d'\]"):
        tool.match(fused, ir, vis)
    os.remove(f'{ir}/d.png')
    os.remove(f'{vis}/d.png')
    write_images(vis, ['c'], (20, 23), False, 3)
    out = str(tmp_path / 'out')
    with pytest.raises(UserError, match=r'sizes differ .*c\.png'):
        tool.main(tool.parse_args([fused, ir, vis, '--out', out]))
    assert not osp.exists(out)


def test_eval_fusion_refuses_what_would_change_scores(tmp_path):
    """Truncated JPEG, float TIFF without a range, an unwritable result:
    errors naming the file, no result files."""
    from tdfusion_mm.apis import UserError
    tool = load_tool('tools/eval_fusion.py')
    fused, ir, vis = (str(tmp_path / d) for d in ('fused', 'ir', 'vis'))
    write_images(fused, ['a'], (40, 48), False, 0)
    write_images(ir, ['a'], (40, 48), False, 1)
    write_images(vis, ['a'], (40, 48), True, 2, ext='.jpg')
    out = str(tmp_path / 'out')
    args = tool.parse_args([fused, ir, vis, '--out', out])
    data = open(f'{vis}/a.jpg', 'rb').read()
    open(f'{vis}/a.jpg', 'wb').write(data[:len(data) // 2])
    with pytest.raises(UserError, match=r'truncated JPEG .*vis/a\.jpg'):
        tool.main(args)
    write_images(vis, ['a'], (40, 48), True, 2, ext='.jpg')
    os.remove(f'{fused}/a.png')
    ramp = np.linspace(0, 255, 40 * 48, dtype=np.float32).reshape(40, 48)
    cv2.imwrite(f'{fused}/a.tiff', ramp)
    with pytest.raises(UserError, match=r'a\.tiff is a float32 image'):
        tool.main(args)
    os.makedirs(f'{out}/summary.md')  # the last result cannot be written
    with pytest.raises(UserError, match=r'cannot write .*summary\.md'):
        tool.main(tool.parse_args([fused, ir, vis, '--out', out,
                                   '--float-range', '0', '255']))
    assert os.listdir(out) == ['summary.md']
    os.rmdir(f'{out}/summary.md')
    tool.main(tool.parse_args([fused, ir, vis, '--out', out,
                               '--float-range', '0', '255']))
    with open(osp.join(out, 'per_image.csv')) as f:
        row = list(csv.DictReader(f))[0]
    assert float(row['EN']) > 7  # the ramp, not a white (EN 0) image
    assert sorted(os.listdir(out)) == ['per_image.csv', 'summary.csv',
                                      'summary.md']


@pytest.fixture(scope='module')
def tiny_refusion(tmp_path_factory):
    """A small ReFusion config with checkpoints of ours and official."""
    root = tmp_path_factory.mktemp('fuse')
    cfg = dict(type='ReFusion', dim=8, num_blocks=1, num_heads=2)
    (root / 'cfg.py').write_text(f'model = dict(fusion_backbone={cfg!r})\n')
    torch.manual_seed(0)
    state = ReFusion(**{k: v for k, v in cfg.items() if k != 'type'}
                     ).state_dict()
    torch.save(dict(state_dict={f'fusion_backbone.{k}': v
                                for k, v in state.items()}),
               root / 'ours.pth')
    # Official layout: every conv weight also stored as <name>.conv.weight.
    official = dict(state)
    for key, value in state.items():
        if value.dim() == 4:
            official[key.replace('.weight', '.conv.weight')] = value
    torch.save(official, root / 'official.pth')
    return root


def test_fuse_folders_and_a_pair_with_an_official_checkpoint(tiny_refusion,
                                                             tmp_path):
    """Two fuse.py runs, started together: folders of any size, colour and
    panels with our checkpoint; one grey pair, stretched, with the official
    checkpoint."""
    names = ['p', 'q']
    ir, vis = str(tmp_path / 'ir'), str(tmp_path / 'vis')
    write_images(ir, names, (37, 45), False, 0)
    write_images(vis, names, (37, 45), True, 1, ext='.jpg')
    grey_ir, grey_vis = str(tmp_path / 'grey_ir'), str(tmp_path / 'grey_vis')
    write_images(grey_ir, ['x'], (30, 41), False, 0)
    write_images(grey_vis, ['x'], (30, 41), False, 1)
    out, grey_out = str(tmp_path / 'out'), str(tmp_path / 'grey_out')
    cfg = str(tiny_refusion / 'cfg.py')
    tools = [
        start_tool(['tools/fuse.py', cfg, str(tiny_refusion / 'ours.pth'),
                    '--ir', ir, '--vis', vis, '--out', out, '--panels'],
                   threads=1),
        start_tool(['tools/fuse.py', cfg, str(tiny_refusion / 'official.pth'),
                    '--ir', f'{grey_ir}/x.png', '--vis', f'{grey_vis}/x.png',
                    '--out', grey_out, '--stretch'], threads=1),
    ]
    for tool in tools:
        finish_tool(tool)
    for name in names:
        fused = cv2.imread(osp.join(out, name + '.png'), cv2.IMREAD_UNCHANGED)
        assert fused.shape == (37, 45, 3)
        panel = cv2.imread(osp.join(out, 'panels', name + '.png'))
        assert panel.shape == (37, 3 * 45, 3)
    fused = cv2.imread(f'{grey_out}/x.png', cv2.IMREAD_UNCHANGED)
    assert fused.shape == (30, 41)  # grey visible: grey output
    assert fused.min() == 0 and fused.max() == 255  # stretched


def test_fuse_reports_failures(tiny_refusion, tmp_path):
    """What fuse.py used to pass silently: errors naming the
    file, exit status 1, no traceback unless --debug."""
    from tdfusion_mm.apis import UserError
    tool = load_tool('tools/fuse.py')
    cfg, ckpt = str(tiny_refusion / 'cfg.py'), str(tiny_refusion / 'ours.pth')
    ir, vis, out = (str(tmp_path / d) for d in ('ir', 'vis', 'out'))
    write_images(ir, ['a', 'b'], (30, 41), False, 0)
    write_images(vis, ['a', 'b'], (30, 41), True, 1, ext='.jpg')

    def fuse(*extra, ir_path=ir, vis_path=vis):
        tool.main(tool.parse_args([cfg, ckpt, '--ir', ir_path, '--vis',
                                   vis_path, '--out', out, *extra]))

    os.makedirs(f'{out}/b.png')  # an output that cannot be written
    with pytest.raises(UserError, match=r'cannot write .*out/b\.png(.|\n)*'
                       r'1 of 2 fused image\(s\) were written'):
        fuse()
    os.rmdir(f'{out}/b.png')
    data = open(f'{vis}/b.jpg', 'rb').read()
    open(f'{vis}/b.jpg', 'wb').write(data[:len(data) // 2])
    with pytest.raises(UserError, match=r'truncated JPEG .*vis/b\.jpg'):
        fuse()
    os.remove(f'{vis}/b.jpg')
    os.remove(f'{ir}/b.png')
    cv2.imwrite(f'{ir}/a.tiff', np.full((30, 41), 200, np.float32))
    with pytest.raises(UserError, match="two images named 'a'"):
        fuse()
    os.remove(f'{ir}/a.png')
    with pytest.raises(UserError, match=r'a\.tiff is a float32 image'):
        fuse()
    fuse('--float-range', '0', '255')
    assert cv2.imread(f'{out}/a.png').shape == (30, 41, 3)
    empty = str(tmp_path / 'empty')
    os.makedirs(empty)
    with pytest.raises(UserError, match='no images .* in .*empty'):
        fuse(ir_path=empty, vis_path=empty)
    assert not [f for f in os.listdir(out) if 'tmp' in f]
    # As a command: one line, exit status 1; --debug adds the traceback.
    args = ['tools/fuse.py', cfg, ckpt, '--ir', empty, '--vis', empty,
            '--out', out]
    plain = start_tool(args, threads=1)
    debug = start_tool(args + ['--debug'], threads=1)
    log = finish_tool(plain, expect_ok=False)
    assert 'Traceback' not in log
    assert log.strip().splitlines()[-1].startswith('error: no images')
    assert 'Traceback' in finish_tool(debug, expect_ok=False)


def test_plot_curves(tmp_path):
    run_dir = tmp_path / '20250101_000000' / 'vis_data'
    run_dir.mkdir(parents=True)
    records = [
        dict(**{'fusion_backbone.lr': 1e-3, 'loss_generator.lr': 1e-3},
             loss_fusion=0.5 - 0.01 * i, loss_fusion_int=0.1,
             loss_task=3.0 - 0.1 * i, w_ir_mean=0.5, probe_w_ir_mean=0.4,
             phase=float(i % 2), iter=i, epoch=1, step=i)
        for i in range(1, 6)
    ] + [{'pascal_voc/mAP': 0.1, 'fusion/EN': 6.5, 'step': 1,
          'coco/bbox_mAP_l': -1.0}]
    (run_dir / 'scalars.json').write_text(
        '\n'.join(json.dumps(r) for r in records) + '\n')
    out = str(tmp_path / 'curves.png')
    log = run(['tools/analysis_tools/plot_curves.py', str(tmp_path), '--out',
               out])
    # (bbox_mAP_l = -1, no large objects, is not a curve.)
    assert '9 scalar(s) from 1 file(s)' in log
    image = cv2.imread(out)
    assert image is not None and image.shape[0] > 200
    run(['tools/analysis_tools/plot_curves.py', str(tmp_path / 'none')],
        expect_ok=False)
