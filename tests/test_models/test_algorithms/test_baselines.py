"""The baselines of the fusion-loss study: a fixed loss, one modality."""
import copy
import os.path as osp

import pytest
import torch
from helpers import REPO, batches, build, changed, state
from mmengine.config import Config

from tdfusion_mm.models.algorithms.task_input import task_image
from tdfusion_mm.models.fusion_backbones import PassThroughFusion
from tdfusion_mm.models.loss_generators import FixedLossWeights

CONFIGS = osp.join(REPO, 'configs')


def with_model(demo_cfg, **model):
    cfg = copy.deepcopy(demo_cfg)
    cfg.merge_from_dict(dict(model=model))
    return cfg


def pass_through_cfg(demo_cfg, source):
    return with_model(
        demo_cfg,
        fusion_backbone=dict(_delete_=True, type='PassThroughFusion',
                             source=source),
        swap_modalities=False)


def fixed_cfg(demo_cfg):
    cfg = copy.deepcopy(demo_cfg)
    cfg.model.loss_generator = dict(type='FixedLossWeights', w_ir=0.25)
    return cfg


def test_fixed_weights_are_constant_and_sum_to_one():
    ir, vis = torch.rand(2, 1, 5, 7), torch.rand(2, 1, 5, 7)
    w = FixedLossWeights(0.25)(ir, vis)
    assert w.shape == (2, 2, 5, 7)
    assert torch.all(w[:, 0] == 0.25) and torch.all(w[:, 1] == 0.75)
    with pytest.raises(ValueError, match='w_ir'):
        FixedLossWeights(1.5)
    with pytest.raises(ValueError, match='ir and vis'):
        FixedLossWeights()(ir, vis[:, :, :4])


def test_fixed_loss_trains_f_and_t_without_g_optimizer(demo_cfg):
    cfg, model, optim = build(fixed_cfg(demo_cfg))
    assert 'loss_generator' not in optim, 'empty optimizer built for G'
    data = batches(cfg)
    model.train()
    f_before, t_before = state(model.fusion_backbone), state(model.task_model)
    log = model.train_step(data[0], optim)
    assert changed(f_before, model.fusion_backbone)
    assert changed(t_before, model.task_model)
    assert log['w_ir_mean'] == pytest.approx(0.25)
    with pytest.raises(ValueError, match='meta_steps=0'):
        model.train_step(dict(inner=data[0], outer=data[1]), optim)


def test_fixed_loss_equals_learnable_loss_with_those_weights(demo_cfg):
    """The fusion loss F steps on is the usual one, weights 0.25 / 0.75."""
    _, model, _ = build(fixed_cfg(demo_cfg))
    ir, vis_y = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    fused = torch.rand(2, 1, 16, 16)
    weights = torch.cat([torch.full_like(ir, .25), torch.full_like(ir, .75)],
                        1)
    expected = model.fusion_loss(fused, ir, vis_y, weights)
    got = model.fusion_loss(fused, ir, vis_y, model.loss_weights(
        ir, vis_y.expand(-1, 3, -1, -1)))
    for key in expected:
        assert torch.equal(got[key], expected[key])


def test_pass_through_returns_its_source_and_has_no_parameters():
    ir, vis_y = torch.rand(2, 1, 5, 7), torch.rand(2, 1, 5, 7)
    assert PassThroughFusion('visible')(ir, vis_y) is vis_y
    assert PassThroughFusion('infrared')(ir, vis_y) is ir
    assert not list(PassThroughFusion('visible').parameters())
    with pytest.raises(ValueError, match='source'):
        PassThroughFusion('thermal')


@pytest.mark.parametrize('source', ['visible', 'infrared'])
def test_single_modality_trains_t_on_that_image(demo_cfg, source):
    cfg, model, optim = build(pass_through_cfg(demo_cfg, source))
    assert 'fusion_backbone' not in optim, 'optimizer built for F'
    data = batches(cfg)
    model.train()
    seen = []
    original = model.task_losses

    def spy(fused, vis_bgr, samples):
        seen.append((fused.clone(),
                     task_image(fused, vis_bgr, model.task_in_channels,
                                model.fusion_backbone)))
        return original(fused, vis_bgr, samples)

    model.task_losses = spy
    g_before, t_before = state(model.loss_generator), state(model.task_model)
    log = model.train_step(data[0], optim)
    assert changed(t_before, model.task_model), 'T did not learn'
    assert not changed(g_before, model.loss_generator), 'G moved'
    assert 'loss_fusion' not in log and 'loss_task' in log
    prepared = model.data_preprocessor(data[0], True)['inputs']
    fused, image = seen[0]
    assert fused.shape[0] == len(data[0]['data_samples']), 'batch swapped'
    if source == 'infrared':
        torch.testing.assert_close(fused, prepared['ir'])
        assert torch.equal(image[:, 0], image[:, 2]), 'IR must be grey'
    else:
        torch.testing.assert_close(image, prepared['vis'] * 255, atol=1e-3,
                                   rtol=0)
    with pytest.raises(ValueError, match='meta_steps=0'):
        model.train_step(dict(inner=data[0], outer=data[1]), optim)


def test_single_modality_predict_reports_that_modality(demo_cfg):
    cfg, model, _ = build(pass_through_cfg(demo_cfg, 'infrared'))
    data = batches(cfg, split='test')[0]
    model.eval()
    with torch.no_grad():
        prepared = model.data_preprocessor(data, False)
        results = model.predict(prepared['inputs'],
                                prepared['data_samples'])
    for sample, ir in zip(results, prepared['inputs']['ir']):
        h, w = sample.metainfo['img_shape'][:2]
        assert torch.equal(sample.pred_fusion.luma, ir[:, :h, :w])
        assert 'pred_instances' in sample


def test_former_task_input_names_what_to_write(demo_cfg):
    with pytest.raises(KeyError, match='task_input.*PassThroughFusion'):
        build(with_model(demo_cfg, task_input='visible'))


def test_pass_through_refuses_the_swap(demo_cfg):
    cfg = pass_through_cfg(demo_cfg, 'visible')
    cfg.model.swap_modalities = True
    with pytest.raises(ValueError, match='swap_modalities=False'):
        build(cfg)


def test_baseline_configs_differ_from_tdfusion_only_where_stated():
    for task, base in (('segformer_msrs', 'tdfusion_segformer_msrs'),
                       ('yolox_llvip', 'tdfusion_yolo_llvip')):
        ref = Config.fromfile(osp.join(CONFIGS, f'{base}.py'))
        for variant in ('fixed_loss', 'visible', 'infrared'):
            cfg = Config.fromfile(
                osp.join(CONFIGS, 'baselines', f'{task}_{variant}.py'))
            assert cfg.train_cfg.meta_steps == 0
            assert cfg.train_dataloader == ref.train_dataloader
            assert cfg.model.task_model == ref.model.task_model
            if variant == 'fixed_loss':
                assert cfg.model.loss_generator == dict(
                    type='FixedLossWeights', w_ir=0.5)
            else:
                assert cfg.model.fusion_backbone == dict(
                    type='PassThroughFusion', source=variant)
                assert cfg.model.swap_modalities is False


def test_hook_asks_only_for_the_optimizers_in_use(demo_cfg):
    from types import SimpleNamespace

    from mmengine.runner import Runner

    from tdfusion_mm.engine.hooks import LearnableFusionLossHook
    cfg, model, optim = build(fixed_cfg(demo_cfg))
    loader = Runner.build_dataloader(
        dict(cfg.train_dataloader, num_workers=0, persistent_workers=False))

    def runner(meta_steps, optim):
        return SimpleNamespace(model=model, optim_wrapper=optim,
                               train_dataloader=loader,
                               train_loop=SimpleNamespace(
                                   meta_steps=meta_steps))

    LearnableFusionLossHook().before_train(runner(0, optim))
    with pytest.raises(ValueError, match='meta_steps=0'):
        LearnableFusionLossHook().before_train(runner(3, optim))
    # T alone trains (F without an optimizer is not trained) ...
    LearnableFusionLossHook().before_train(
        runner(0, {'task_model': optim['task_model']}))
    # ... but with neither F's nor T's optimizer nothing would.
    with pytest.raises(KeyError, match='nothing to train'):
        LearnableFusionLossHook().before_train(runner(0, {}))


def test_training_run_of_a_single_modality_baseline(demo_cfg, tmp_path):
    """A whole run (loop, hooks, validation) with the pass-through F: only
    T trains, G stays as built."""
    from mmengine.runner import Runner
    cfg = pass_through_cfg(demo_cfg, 'visible')
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg.update(max_epochs=1, meta_steps=0, val_interval=1,
                         generator_movement=None)
    cfg.train_dataloader.batch_size = 3
    runner = Runner.from_cfg(cfg)
    g_before = state(runner.model.loss_generator)
    t_before = state(runner.model.task_model)
    runner.train()
    assert sorted(runner.optim_wrapper.keys()) == ['loss_generator',
                                                   'task_model']
    assert changed(t_before, runner.model.task_model)
    assert not changed(g_before, runner.model.loss_generator)
