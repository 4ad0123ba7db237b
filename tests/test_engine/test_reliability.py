"""Reliability: non-finite guard, atomic checkpoints, exact resume."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from helpers import batches, build, changed, optimizer_tensors, state
from mmengine.fileio import get_file_backend

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_nonfinite_fusion_loss_skips_only_f(demo_cfg, monkeypatch):
    cfg, model, optim = build(demo_cfg)
    data = batches(cfg)
    model.train()
    model.train_step(data[0], optim)  # give F's optimizer some state
    f_before, t_before = state(model.fusion_backbone), state(model.task_model)
    f_optim = optimizer_tensors(optim['fusion_backbone'])
    real = model.fusion_loss.forward
    monkeypatch.setattr(
        model.fusion_loss, 'forward', lambda *a: {
            k: v * float('nan') for k, v in real(*a).items()})
    log = model.train_step(data[1], optim)
    assert not changed(f_before, model.fusion_backbone)
    after = optimizer_tensors(optim['fusion_backbone'])
    assert all(torch.equal(v, after[k]) for k, v in f_optim.items())
    assert changed(t_before, model.task_model)  # T still learns
    assert model.nonfinite_skips.tolist() == [1, 0, 0]
    assert log['nonfinite_skips'] == 1
    assert all(p.grad is None or not p.grad.abs().sum()
               for p in model.parameters())


def test_nonfinite_gradient_is_caught(demo_cfg, monkeypatch):
    cfg, model, optim = build(demo_cfg)
    data = batches(cfg)
    model.train()
    t_before = state(model.task_model)
    # A finite loss whose gradient is infinite: sqrt at 0.
    real = model.task_losses
    monkeypatch.setattr(model, 'task_losses', lambda *a: dict(
        loss=sum(real(*a).values()) * 0 + torch.sqrt(
            next(model.task_model.parameters()).abs().sum() * 0)))
    model.train_step(data[0], optim)
    assert not changed(t_before, model.task_model)
    assert model.nonfinite_skips.tolist() == [0, 0, 1]


def test_nonfinite_hypergradient_skips_g_and_restores_t(demo_cfg,
                                                        monkeypatch):
    cfg, model, optim = build(demo_cfg)
    data = batches(cfg)
    model.train()
    g_before, t_before = state(model.loss_generator), state(model.task_model)
    real = model.task_losses
    calls = []

    def outer_inf(*args):
        calls.append(1)
        losses = real(*args)
        if len(calls) == 2:  # the outer (meta) task loss
            losses = {k: v * float('inf') for k, v in losses.items()}
        return losses

    monkeypatch.setattr(model, 'task_losses', outer_inf)
    model.train_step(dict(inner=data[0], outer=data[1]), optim)
    assert not changed(g_before, model.loss_generator)
    assert not changed(t_before, model.task_model)
    assert model.nonfinite_skips.tolist() == [0, 1, 0]
    assert not optim['loss_generator'].optimizer.state


def test_atomic_backend_never_truncates(tmp_path, monkeypatch):
    target = str(tmp_path / 'epoch_1.pth')
    backend = get_file_backend(target, backend_args=dict(backend='atomic_local'))
    backend.put(b'good checkpoint', target)
    assert open(target, 'rb').read() == b'good checkpoint'

    def killed(fd):
        raise KeyboardInterrupt('killed while saving')

    monkeypatch.setattr(os, 'fsync', killed)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'new but never finished', target)
    assert open(target, 'rb').read() == b'good checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no stray temp file


def train_cmd(demo_root, work_dir, extra=()):
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
    return [sys.executable, osp.join(REPO, 'tools', 'train.py'),
            osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py'), '--work-dir',
            work_dir, *extra, '--cfg-options', *options]


def test_resume_after_kill_in_meta_phase_is_exact(demo_root, tmp_path):
    """kill -9 during the G phase, resume, same final weights."""
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore')
    full, cut = str(tmp_path / 'full'), str(tmp_path / 'cut')
    out = subprocess.run(train_cmd(demo_root, full), env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    last = 2 + 2  # meta pairs + batches (6 images, batch size 4)

    # Kill after the first meta pair, in the middle of the G phase.
    kill_after = osp.join(cut, 'iter_1.pth')
    proc = subprocess.Popen(train_cmd(demo_root, cut), env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 900
    while not osp.exists(kill_after) and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not osp.exists(osp.join(cut, f'iter_{last}.pth'))
    ckpt = torch.load(kill_after, weights_only=True)
    assert ckpt['meta']['tdfusion_loop']['next_phase'] == 'meta'
    assert ckpt['meta']['tdfusion_loop']['position'] == 1

    out = subprocess.run(train_cmd(demo_root, cut, ['--resume']), env=env,
                         cwd=REPO, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 1' in out.stdout + out.stderr
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
