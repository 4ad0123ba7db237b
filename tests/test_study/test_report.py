"""The study's report from finished runs: scores, paired differences, G's
weights measured from the runs' checkpoints, the panel."""
import os
import os.path as osp

from helpers import load_tool
from mmengine.config import Config

from tdfusion_mm.study.design import FUSION_METRICS
from tdfusion_mm.study.report import write_report
from tdfusion_mm.study.run_config import run_config

study_cli = load_tool('tools/analysis_tools/fusion_loss_study.py')


def fake_finished_run(args, variant, seed, score):
    """A run as train.py leaves it: the (untrained) model's checkpoint and a
    final validation entry in scalars.json."""
    import json

    import torch

    from tdfusion_mm.registry import MODELS
    cfg = Config.fromfile(run_config('demo', variant, seed, args))
    # What train.py must log for final_metrics to find the run.
    assert [e.type for e in cfg.val_evaluator] == [
        'mmdet.VOCMetric', 'tdfusion_mm.FusionMetric']
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict()),
               osp.join(cfg.work_dir, f'epoch_{cfg.train_cfg.max_epochs}.pth'))
    logs = osp.join(cfg.work_dir, '20261130_030000', 'vis_data')
    os.makedirs(logs)
    entry = {'pascal_voc/mAP': score}
    entry.update({f'fusion/{m}': 1.0 for m in FUSION_METRICS})
    with open(osp.join(logs, 'scalars.json'), 'w') as f:
        f.write(json.dumps(entry) + '\n')


def test_report_from_finished_runs_on_the_cpu_device(tmp_path, monkeypatch):
    """The report path of ``--device cpu`` (``cuda`` takes the same code):
    scores, paired differences, G's weights on objects/background measured
    from the runs' checkpoints on the held-out pairs, and the panel."""
    import tdfusion_mm.testing as testing
    monkeypatch.setattr(testing, 'DEMO_DATA', dict(
        num_train=3, num_test=2, height=64, width=80, seed=1,
        classes=('People', 'Car')))
    out = tmp_path / 'docs' / 'results.md'
    args = study_cli.parse_args([
        '--tasks', 'demo', '--seeds', '0', '1', '--device', 'cpu',
        '--work-dir', str(tmp_path / 'wd'), '--out', str(out),
        '--report-only', '--panel-pairs', '2'])
    for seed, (learned, fixed) in enumerate(((0.6, 0.5), (0.4, 0.45))):
        fake_finished_run(args, 'learned', seed, learned)
        fake_finished_run(args, 'fixed', seed, fixed)
    write_report(args)
    text = out.read_text()
    learned_row = next(line for line in text.splitlines()
                       if line.startswith('| learned |'))
    assert '50.00 ± 14.14 (60.00 / 40.00)' in learned_row
    # G's mean w_ir on objects and on background, both in [0, 1], per seed.
    cells = learned_row.split('|')[3:5]
    for cell in cells:
        values = [float(v) for v in cell.split('(')[1].rstrip(') ').split('/')]
        assert len(values) == 2 and all(0 < v < 1 for v in values)
    assert 'learned better in 1 of 2' in text and '+10.00, -5.00' in text
    assert (tmp_path / 'docs' / 'results' / 'demo_panel.jpg').stat().st_size
