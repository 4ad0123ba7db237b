"""tools/train.py and tools/test.py on a fixture in the M3FD layout."""
import glob
import os.path as osp
import re

import pytest
from helpers import finish_tool, load_tool, start_tool
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def trained_m3fd(trained_tool_runs):
    """One short epoch of configs/tdfusion_yolo_m3fd.py on the fixture:
    work dir, --cfg-options, log (see conftest.py)."""
    return trained_tool_runs['m3fd']


def test_train_runs_both_phases_and_saves(trained_m3fd):
    work_dir, _, out = trained_m3fd
    assert osp.exists(osp.join(work_dir, 'epoch_1.pth'))
    assert 'loss_task_meta' in out  # a meta pair ran (learning G)
    assert 'loss_cls' in out and 'loss_fusion_grad' in out  # F+T ran
    # Our checkpoints load with torch's safe (weights-only) loader.
    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=True)
    assert any(k.startswith('loss_generator.') for k in ckpt['state_dict'])
    assert set(ckpt['optimizer']) == {'fusion_backbone', 'loss_generator',
                                      'task_model'}


def test_train_saves_checkpoints_atomically(trained_m3fd):
    """The checkpoint was written by the atomic_local backend: its save
    removed the temporary file that the fixture left in the work dir as a
    killed write would."""
    work_dir = trained_m3fd[0]
    assert osp.exists(osp.join(work_dir, 'epoch_1.pth'))
    assert not glob.glob(osp.join(work_dir, '*.tmp-*'))


def test_train_log_is_readable_and_sizes_g_step(trained_m3fd):
    work_dir, _, out = trained_m3fd
    # The phase in words; G's tiny hypergradient with significant digits.
    assert 'phase: learning G, meta pair 1/2' in out
    assert 'phase: learning G, meta pair 2/2' in out
    assert 'phase: learning F and T' in out
    values = re.findall(r'hypergrad_max: (\S+)', out)
    assert values and all(float(v) > 0 for v in values), values
    # G's lr = generator_movement / (1 epoch x 2 meta pairs).
    assert "G's learning rate set to 0.25" in out
    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=True)
    groups = ckpt['optimizer']['loss_generator']['param_groups']
    assert all(g['lr'] == 0.25 for g in groups)


@pytest.fixture(scope='module')
def tested_m3fd(trained_m3fd, tmp_path_factory):
    """tools/test.py and tools/misc/demo_panels.py on the trained
    checkpoint, started together (one thread each)."""
    work_dir, options, _ = trained_m3fd
    tmp = tmp_path_factory.mktemp('tested_m3fd')
    config = osp.join(REPO, 'configs', 'tdfusion_yolo_m3fd.py')
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    out_pkl, panel_dir = str(tmp / 'preds.pkl'), str(tmp / 'panels')
    tools = [
        start_tool([osp.join(REPO, 'tools', 'test.py'), config, checkpoint,
                    '--work-dir', work_dir, '--out', out_pkl, '--show-dir',
                    'painted', '--cfg-options'] + options, threads=1),
        start_tool([osp.join(REPO, 'tools', 'misc', 'demo_panels.py'),
                    config, checkpoint, '--out', panel_dir,
                    '--cfg-options'] + options, threads=1),
    ]
    test_log, panel_log = (finish_tool(tool) for tool in tools)
    return dict(test_log=test_log, out_pkl=out_pkl, panel_log=panel_log,
                panel_dir=panel_dir)


def test_test_script_prints_bbox_map(trained_m3fd, tested_m3fd):
    work_dir = trained_m3fd[0]
    out = tested_m3fd['test_log']
    assert 'coco/bbox_mAP' in out and 'pascal_voc/mAP' in out
    assert osp.getsize(tested_m3fd['out_pkl']) > 0
    assert glob.glob(osp.join(work_dir, '*', 'painted', '*.png'))


def test_demo_panels_draw_every_test_image(tested_m3fd):
    out = tested_m3fd['panel_log']
    panels = sorted(glob.glob(osp.join(tested_m3fd['panel_dir'], '*.png')))
    assert len(panels) == 4 and '4 panel(s) written' in out
    assert re.search(r"G's w_ir on the test images: objects [\d.]+, "
                     r'background [\d.]+ \(gap [-+][\d.]+\): ', out), out
    import cv2
    panel = cv2.imread(panels[0])
    # Five tiles (IR | visible | fused | w_ir | predictions), enlarged.
    assert panel.shape[0] >= 288 and panel.shape[1] == 5 * panel.shape[0] * 80 // 64


def test_demo_panels_verdict_on_g():
    verdict = load_tool('tools/misc/demo_panels.py').generator_verdict
    uniform = verdict(dict(objects=0.52, background=0.50), 0.05)
    assert 'gap +0.020' in uniform and 'uniform at this budget' in uniform
    apart = verdict(dict(objects=0.40, background=0.50), 0.05)
    assert 'gap -0.100' in apart and 'apart from the background' in apart
    assert 'no annotated objects' in verdict(dict(background=0.5), 0.05)
