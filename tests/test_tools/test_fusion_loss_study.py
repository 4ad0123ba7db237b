"""tools/analysis_tools/fusion_loss_study.py's command line: budgets per
task, bad values and missing dataset roots refused."""
import pytest
from helpers import load_tool

study_cli = load_tool('tools/analysis_tools/fusion_loss_study.py')


def test_budgets_per_task_and_bad_values(tmp_path):
    args = study_cli.parse_args([
        '--tasks', 'demo', '--work-dir', str(tmp_path), '--epochs', 'demo=3',
        '--meta-steps', 'demo=7', '--size', 'seg=160x120'])
    assert args.budget['demo']['epochs'] == 3
    assert args.budget['demo']['meta_steps'] == 7
    assert args.budget['seg']['size'] == (160, 120)
    with pytest.raises(SystemExit):
        study_cli.parse_args(['--epochs', 'nosuchtask=3'])
    with pytest.raises(SystemExit):  # a real-data task needs its root
        study_cli.parse_args(['--tasks', 'seg'])
