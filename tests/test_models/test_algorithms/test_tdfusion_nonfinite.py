"""TDFusion with NonFiniteSkipOptimWrapper: a non-finite loss, gradient or
hypergradient skips that update only; F's fused images are checked before T
sees them, for detectors and segmentors alike."""
import os.path as osp

import pytest
import torch
from helpers import REPO, batches, build, changed, optimizer_tensors, state
from mmengine.config import Config


def skips(optim):
    """Updates skipped by F's, G's and T's optimizer wrappers."""
    return [optim[k].nonfinite_skips
            for k in ('fusion_backbone', 'loss_generator', 'task_model')]


def demo_config(name, demo_root):
    """A demo config on the session's fixture, at its small sizes."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    layout = 'm3fd' if 'yolo' in name else 'msrs'
    for dl in (cfg.train_dataloader, cfg.val_dataloader,
               cfg.test_dataloader):
        dl.dataset.data_root = f'{demo_root}/{layout}/'
    if layout == 'msrs':  # 64x80 fixture images, 32x40 task images
        for t in cfg.train_dataloader.dataset.pipeline:
            if t.type == 'PairedTransform':
                t.transforms[0].scale = (40, 32)
            if t.type == 'RandomFusionCrop':
                t.crop_size = (16, 16)
        cfg.model.task_model.cfg_options.data_preprocessor.size = (32, 40)
    return cfg


TASKS = ['tdfusion_yolo_demo.py', 'tdfusion_segformer_demo.py']


@pytest.fixture(params=TASKS, ids=['yolox', 'segformer'])
def task_cfg(request, demo_root):
    return demo_config(request.param, demo_root)


def warnings_of(monkeypatch):
    """Collect what T's input conversion logs."""
    from tdfusion_mm.models.algorithms import task_input
    logged = []
    real = task_input.print_log
    monkeypatch.setattr(task_input, 'print_log', lambda msg, *a, **k: (
        logged.append(msg), real(msg, *a, **k)))
    return logged


def test_huge_inner_lr_skips_g_without_running_t(task_cfg, monkeypatch):
    """inner_lr=1e30: the stepped F fuses non-finite images; T must not see
    them (YOLOX's assigner raised), G's update is skipped and counted."""
    task_cfg.model.inner_lr = 1e30
    cfg, model, optim = build(task_cfg)
    data = batches(cfg)
    model.train()
    logged = warnings_of(monkeypatch)
    g_before, t_before = state(model.loss_generator), state(model.task_model)
    log = model.train_step(dict(inner=data[0], outer=data[1]), optim)
    assert skips(optim) == [0, 1, 0]
    assert log['nonfinite_skips'] == 1
    assert not changed(g_before, model.loss_generator)
    assert not changed(t_before, model.task_model)  # restored after the pair
    assert any('non-finite fused image' in m for m in logged)


def test_diverged_f_skips_t_step(task_cfg, monkeypatch):
    """F's weights non-finite (a huge F learning rate): F's and T's steps
    are skipped and counted, T and its BatchNorm statistics untouched."""
    cfg, model, optim = build(task_cfg)
    data = batches(cfg)
    model.train()
    with torch.no_grad():
        for p in model.fusion_backbone.parameters():
            p.fill_(float('inf'))
    logged = warnings_of(monkeypatch)
    t_before = state(model.task_model)
    log = model.train_step(data[0], optim)
    assert skips(optim) == [1, 0, 1]
    assert log['nonfinite_skips'] == 2
    assert not changed(t_before, model.task_model)
    assert any('non-finite fused image' in m for m in logged)


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
    assert skips(optim) == [1, 0, 0]
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
    assert skips(optim) == [0, 0, 1]


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
    assert skips(optim) == [0, 1, 0]
    assert not optim['loss_generator'].optimizer.state
