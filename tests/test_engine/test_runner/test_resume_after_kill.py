"""Exact resume: a run killed in the meta phase and resumed ends with the
weights and optimizer states of the uninterrupted run."""
import os.path as osp
import signal
import time

import torch
from helpers import REPO, finish_tool, start_tool


def train_args(demo_root, work_dir, extra=()):
    data_root = f'{demo_root}/m3fd/'
    options = [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_cfg.max_epochs=1', 'train_cfg.meta_steps=2',
        'train_cfg.val_interval=100', 'train_dataloader.batch_size=4',
        'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=100',
        'default_hooks.logger.interval=1',
    ]
    return [osp.join(REPO, 'tools', 'train.py'),
            osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py'), '--work-dir',
            work_dir, *extra, '--cfg-options', *options]


def test_resume_after_kill_in_meta_phase_is_exact(demo_root, tmp_path):
    """kill -9 during the G phase, resume, same final weights."""
    full, cut = str(tmp_path / 'full'), str(tmp_path / 'cut')
    # The uninterrupted run and the one to be killed run side by side, one
    # thread each (all three runs alike, so that they sum in the same order).
    uninterrupted = start_tool(train_args(demo_root, full), threads=1)
    killed = start_tool(train_args(demo_root, cut), threads=1)
    last = 2 + 2  # meta pairs + batches (6 images, batch size 4)

    # Kill after the first meta pair, in the middle of the G phase.
    kill_after = osp.join(cut, 'iter_1.pth')
    deadline = time.time() + 900
    while not osp.exists(kill_after) and killed.poll() is None:
        assert time.time() < deadline
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    finish_tool(killed, expect_ok=False)
    assert not osp.exists(osp.join(cut, f'iter_{last}.pth'))
    ckpt = torch.load(kill_after, weights_only=True)
    assert ckpt['meta']['tdfusion_loop']['next_phase'] == 'meta'
    assert ckpt['meta']['tdfusion_loop']['position'] == 1

    resumed = start_tool(train_args(demo_root, cut, ['--resume']), threads=1)
    finish_tool(uninterrupted)
    assert 'resumed epoch: 0, iter: 1' in finish_tool(resumed)
    a = torch.load(osp.join(full, f'iter_{last}.pth'), weights_only=True)
    b = torch.load(osp.join(cut, f'iter_{last}.pth'), weights_only=True)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for k, v in a['state_dict'].items():
        assert torch.equal(v, b['state_dict'][k]), k
    for name in ('fusion_backbone', 'loss_generator', 'task_model'):
        sa, sb = a['optimizer'][name]['state'], b['optimizer'][name]['state']
        for pid in sa:
            for k, v in sa[pid].items():
                if torch.is_tensor(v):
                    assert torch.equal(v, sb[pid][k]), (name, pid, k)
