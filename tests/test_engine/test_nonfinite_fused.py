"""The non-finite guard checks F's fused images before T sees them, for
detectors and segmentors alike (issue 16, point 2)."""
import os.path as osp

import pytest
import torch
from helpers import batches, build, changed, state
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


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
    """Collect what TDFusion logs."""
    from tdfusion_mm.models.algorithms import tdfusion
    logged = []
    real = tdfusion.print_log
    monkeypatch.setattr(tdfusion, 'print_log', lambda msg, *a, **k: (
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
    assert model.nonfinite_skips.tolist() == [0, 1, 0]
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
    assert model.nonfinite_skips.tolist() == [1, 0, 1]
    assert log['nonfinite_skips'] == 2
    assert not changed(t_before, model.task_model)
    assert any('non-finite fused image' in m for m in logged)
