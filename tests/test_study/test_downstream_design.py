"""The study's downstream design: which tools it runs on which runs, and
the scores it reads back for the report."""
import os
import os.path as osp
import subprocess

from helpers import fake_llvip, load_tool

from tdfusion_mm.study.design import TASKS, run_dir
from tdfusion_mm.study.downstream import (comparison_csv, downstream_scores,
                                          run_downstream)

study_cli = load_tool('tools/analysis_tools/fusion_loss_study.py')


def finished_joint_runs(args, task, seeds):
    for seed in seeds:
        for variant in ('fixed', 'learned'):
            work_dir = run_dir(args, task, variant, seed)
            os.makedirs(work_dir)
            for epoch in (2, 10):
                open(osp.join(work_dir, f'epoch_{epoch}.pth'), 'w').close()


def test_each_seed_fuses_with_both_runs_then_compares_them(
        tmp_path, monkeypatch):
    llvip = str(tmp_path / 'llvip')
    fake_llvip(llvip)
    args = study_cli.parse_args([
        '--tasks', 'det', '--llvip', llvip, '--seeds', '0', '1',
        '--work-dir', str(tmp_path / 'wd'), '--downstream'])
    finished_joint_runs(args, 'det', seeds=[0])  # seed 1 not finished
    calls = []

    def fake_run(command, env, cwd, **kwargs):
        calls.append((command, env))
        if command[1].endswith('fuse_split.py'):
            out = command[command.index('--out') + 1]
            open(osp.join(out, 'fuse_split.json'), 'w').close()
        else:
            work_dir = command[command.index('--work-dir') + 1]
            with open(osp.join(work_dir, 'comparison.csv'), 'w') as f:
                f.write('images,root,pascal_voc/mAP seed 0\n'
                        'fixed,x,0.5\nlearned,y,0.625\n')
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, 'run', fake_run)
    run_downstream(args)
    assert len(calls) == 3  # two fusions and one comparison, for seed 0
    for (command, env), variant in zip(calls[:2], ('fixed', 'learned')):
        work_dir = run_dir(args, 'det', variant, 0)
        assert command[2] == osp.join(work_dir, 'run_config.py')
        # The last epoch's checkpoint, not the first in name order.
        assert command[command.index('--checkpoint') + 1] == osp.join(
            work_dir, 'epoch_10.pth')
    command, env = calls[2]
    assert command[2].endswith(TASKS['det']['downstream'])
    roots = command[command.index('--roots') + 1:command.index('--seeds')]
    assert [r.split('=')[0] for r in roots] == ['fixed', 'learned']
    assert command[command.index('--seeds') + 1] == '0'
    assert command[command.index('--metric') + 1] == 'pascal_voc/mAP'
    # LLVIP's held-out ids are the study's own split files.
    for key, name in (('LLVIP_TRAIN_IDS', 'train'), ('LLVIP_TEST_IDS', 'val')):
        with open(env[key]) as f:
            assert len(f.read().split()) == dict(train=10, val=2)[name]
    assert downstream_scores(args) == {
        ('det', 'downstream_fixed', 0): {'pascal_voc/mAP': 0.5},
        ('det', 'downstream_learned', 0): {'pascal_voc/mAP': 0.625}}
    # A finished seed is not run again.
    calls.clear()
    run_downstream(args)
    assert not calls and osp.exists(comparison_csv(args, 'det', 0))
