"""tools/analysis_tools/device_check.py: its smoke size on the CPU, with
mmcv, mmdet, mmseg, OpenCV and matplotlib absent."""
import json
import os.path as osp

import torch
from helpers import ABSENT_ON_BARE_MACHINE, REPO, load_tool, run_without

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'device_check.py')
# What it may import besides the standard library: PyTorch and its own
# requirements, and the wheels that docs/gpu.md lists.
TORCH_AND_ITS_REQUIREMENTS = {'torch', 'numpy', 'setuptools', 'tqdm',
                              'typing_extensions', 'sympy', 'mpmath'}
WHEELS = {'mmengine', 'addict', 'yapf', 'termcolor', 'rich', 'PyYAML',
          'platformdirs', 'packaging'}


def test_smoke_run_passes_on_the_cpu_without_openmmlab_task_libraries(
        tmp_path):
    out = run_without(ABSENT_ON_BARE_MACHINE, [
        TOOL, '--smoke', '--device', 'cpu', '--out-dir', str(tmp_path)])
    report = json.loads((tmp_path / 'device_check.json').read_text())
    assert report['passed'], out
    assert set(report['checks']) == {
        'networks', 'hypergradient_float64', 'hypergradient_float32',
        'bands', 'autocast_bfloat16', 'train_step'}
    # TDFusion itself needs mmengine's runner, and so OpenCV.
    assert 'cv2 is absent' in report['checks']['train_step']['skipped']
    for name in ('hypergradient_float64', 'hypergradient_float32'):
        check = report['checks'][name]
        assert check['relative_error'] <= check['tolerance'], check
    assert [(r['size'], r['dtype']) for r in report['fusion']] == [
        ('24x32', 'float32'), ('24x32', 'bfloat16'), ('48x64', 'float32'),
        ('48x64', 'bfloat16')]
    assert all(r['pairs_per_s'] > 0 for r in report['fusion'])
    assert report['meta_pair']['median_s'] > 0
    env = report['environment']
    assert env['openmmlab_task_libraries_loaded'] == []
    imported = set(env['imported_distributions']) - {'tdfusion_mm'}
    assert imported <= TORCH_AND_ITS_REQUIREMENTS | WHEELS, imported
    table = (tmp_path / 'device_check.md').read_text()
    assert '| hypergradient_float32 | True |' in table
    assert '| meta pair | s | peak GB |' in table


def test_hypergradient_check_fails_on_a_wrong_hypergradient(monkeypatch):
    tool = load_tool('tools/analysis_tools/device_check.py')
    real = tool.meta_hypergradient

    def flipped(*args, **kwargs):
        result = real(*args, **kwargs)
        return result._replace(hypergrads={
            k: -v for k, v in result.hypergrads.items()})

    cpu = torch.device('cpu')
    assert tool.check_hypergradient(cpu, torch.float64)['passed']
    monkeypatch.setattr(tool, 'meta_hypergradient', flipped)
    check = tool.check_hypergradient(cpu, torch.float64)
    assert not check['passed'] and check['relative_error'] > 1


def test_train_step_check_runs_both_phases_where_opencv_is_present():
    tool = load_tool('tools/analysis_tools/device_check.py')
    check = tool.check_train_step(torch.device('cpu'), tool.SIZES[True])
    assert check['passed'], check
    for precision in ('float32', 'bfloat16'):
        assert check[precision]['g_moved'], check
        assert check[precision]['hypergrad_max'] > 0, check
