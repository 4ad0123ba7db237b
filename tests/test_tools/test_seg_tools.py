"""tools/train.py and tools/test.py on a fixture in the MSRS layout."""
import glob
import os.path as osp
import re

import pytest
from helpers import run_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'tdfusion_segformer_msrs.py')


@pytest.fixture(scope='module')
def trained_msrs(trained_tool_runs):
    """One short epoch of configs/tdfusion_segformer_msrs.py on the
    fixture: work dir, --cfg-options, log (see conftest.py)."""
    return trained_tool_runs['msrs']


def test_train_runs_both_phases_with_a_segmentor(trained_msrs):
    work_dir, _, out = trained_msrs
    assert osp.exists(osp.join(work_dir, 'epoch_1.pth'))
    assert 'loss_task_meta' in out  # a meta pair ran (learning G)
    assert 'decode.loss_ce' in out and 'loss_fusion_grad' in out  # F+T


def test_test_script_prints_miou(trained_msrs, tmp_path):
    work_dir, options, _ = trained_msrs
    out_pkl = str(tmp_path / 'preds.pkl')
    out = run_tool([osp.join(REPO, 'tools', 'test.py'), CONFIG,
               osp.join(work_dir, 'epoch_1.pth'), '--work-dir', work_dir,
               '--out', out_pkl, '--show-dir', 'painted', '--cfg-options'] +
              options, REPO)
    miou = re.search(r'Epoch\(test\).*mIoU: ([0-9.]+)', out)
    assert miou and 0 <= float(miou.group(1)) <= 100, out[-2000:]
    assert 'unlabelled' in out and 'color_cone' in out  # per-class table
    assert osp.getsize(out_pkl) > 0
    painted = glob.glob(
        osp.join(work_dir, 'painted', 'vis_data', 'vis_image', '*.png'))
    assert len(painted) == 4  # the fixture's test pairs
