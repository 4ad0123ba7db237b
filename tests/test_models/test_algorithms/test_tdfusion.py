"""The TDFusion algorithm: both training phases, prediction, fusion."""
import copy

import pytest
import torch
from helpers import (REPO, batches, build, changed, optimizer_tensors,
                     state)
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from tdfusion_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS


def test_meta_pair_learns_g_and_restores_t(demo_cfg):
    cfg, model, optim = build(demo_cfg)
    data = batches(cfg)
    model.train()
    # An F+T step first, so that T's optimizer has state to restore.
    model.train_step(data[0], optim)
    f_before, g_before, t_before = (state(model.fusion_backbone),
                                    state(model.loss_generator),
                                    state(model.task_model))
    t_optim_before = optimizer_tensors(optim['task_model'])
    assert t_optim_before
    log = model.train_step(dict(inner=data[1], outer=data[2]), optim)

    assert changed(g_before, model.loss_generator), 'G did not learn'
    assert not changed(f_before, model.fusion_backbone), 'F moved'
    assert not changed(t_before, model.task_model), 'T not restored'
    t_optim_after = optimizer_tensors(optim['task_model'])
    assert t_optim_after.keys() == t_optim_before.keys()
    for k, v in t_optim_before.items():
        assert torch.equal(v, t_optim_after[k]), f'T optimizer state {k}'
    assert torch.isfinite(log['loss_task_meta'])
    assert log['hypergrad_max'] > 0
    for p in model.parameters():
        assert p.grad is None or not p.grad.abs().sum()


def test_lookahead_step_is_real_inside_the_pair(demo_cfg, monkeypatch):
    """T does step inside the pair (then it is restored)."""
    cfg, model, optim = build(demo_cfg)
    data = batches(cfg)
    model.train()
    t_before = state(model.task_model)
    seen = {}
    from tdfusion_mm.models.algorithms import tdfusion as module
    real = module.meta_hypergradient

    def spy(*args, **kwargs):
        seen['changed'] = changed(t_before, model.task_model)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, 'meta_hypergradient', spy)
    model.train_step(dict(inner=data[0], outer=data[1]), optim)
    assert seen['changed'], 'T took no look-ahead step'
    assert not changed(t_before, model.task_model)


def test_task_loss_reaches_f_only_through_g(demo_cfg):
    """Scaling T's loss changes T's update but not F's."""
    results = []
    for scale in (1.0, 1000.0):
        cfg, model, optim = build(demo_cfg)
        data = batches(cfg)
        model.train()
        original = model.task_losses

        def scaled(*args, scale=scale, original=original):
            return {k: v * scale for k, v in original(*args).items()}

        model.task_losses = scaled
        f_before, g_before = (state(model.fusion_backbone),
                              state(model.loss_generator))
        t_before = state(model.task_model)
        model.train_step(data[0], optim)
        assert changed(f_before, model.fusion_backbone), 'F did not learn'
        assert changed(t_before, model.task_model), 'T did not learn'
        assert not changed(g_before, model.loss_generator), 'G moved'
        results.append((state(model.fusion_backbone),
                        state(model.task_model)))
    (f1, t1), (f2, t2) = results
    for k in f1:
        assert torch.equal(f1[k], f2[k]), f'task loss reached F at {k}'
    assert any(not torch.equal(t1[k], t2[k]) for k in t1)


def test_predict_returns_task_samples_and_fuse(demo_cfg):
    cfg, model, _ = build(demo_cfg)
    data = batches(cfg, 'test')[0]
    model.eval()
    with torch.no_grad():
        out = model.val_step(data)
    assert len(out) == len(data['data_samples'])
    for sample in out:
        assert isinstance(sample.pred_instances, InstanceData)
        assert 'gt_instances' in sample  # the data sample is mmdet's own
    processed = model.data_preprocessor(data, False)['inputs']
    fused = model.fuse(processed['ir'], processed['vis'])
    assert fused['luma'].shape[1] == 1
    assert fused['image'].shape == processed['vis'].shape
    assert 0 <= fused['image'].min() and fused['image'].max() <= 1


def test_task_model_scope_is_required():
    from tdfusion_mm.models.algorithms import build_task_model
    with pytest.raises(KeyError, match='which library'):
        build_task_model(dict(type='YOLOX'))
    with pytest.raises(KeyError, match='cfg_options'):
        build_task_model(dict(cfg_path='mmdet::yolox/x.py', bbox_head=1))


def test_detector_is_swapped_by_config_alone(demo_root):
    """The RTMDet config (inheriting the YOLOX one) trains both phases."""
    import os.path as osp

    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tdfusion_rtmdet_m3fd.py'))
    pipeline = cfg.train_dataloader.dataset.pipeline
    cfg.train_dataloader.dataset.data_root = f'{demo_root}/m3fd/'
    pipeline[2].crop_size = (32, 32)  # small sizes keep the test fast
    pipeline[3].transforms[0].scale = pipeline[3].transforms[2].size = (64, 64)
    init_default_scope('tdfusion_mm')
    model = MODELS.build(cfg.model)
    assert type(model.task_model).__name__ == 'RTMDet'
    assert model.task_model.bbox_head.num_classes == 6
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    optim = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=optim_cfg.pop('constructor'),
             optim_wrapper_cfg=optim_cfg))(model)
    data = batches(cfg, size=1)
    model.train()
    g_before, t_before = state(model.loss_generator), state(model.task_model)
    log = model.train_step(dict(inner=data[0], outer=data[1]), optim)
    assert changed(g_before, model.loss_generator)
    assert not changed(t_before, model.task_model)
    log = model.train_step(data[2], optim)
    assert changed(t_before, model.task_model)
    assert torch.isfinite(log['loss_task'])
