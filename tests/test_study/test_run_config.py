"""The study's run configs: warm start, budget, seed, size, data, metrics
and each variant's changes (no training here)."""
import os
import os.path as osp

from helpers import fake_llvip, load_tool
from mmengine.config import Config

from tdfusion_mm.study.design import WARM_RUN, warm_checkpoint
from tdfusion_mm.study.run_config import pipeline_steps, run_config

study_cli = load_tool('tools/analysis_tools/fusion_loss_study.py')


def test_run_configs_warm_start_budget_seed_size_and_metrics(tmp_path):
    llvip = str(tmp_path / 'llvip')
    fake_llvip(llvip)
    msrs = str(tmp_path / 'msrs')
    os.makedirs(osp.join(msrs, 'splits'))
    args = study_cli.parse_args([
        '--tasks', 'seg', 'det', '--msrs', msrs, '--llvip', llvip,
        '--work-dir', str(tmp_path / 'wd'), '--warm-epochs', 'seg=2', 'det=4',
        '--epochs', 'seg=1', 'det=3', '--meta-steps', 'seg=7', 'det=5',
        '--size', 'seg=64x48', 'det=96x64', '--generator-movement', '0.4',
        '--fusion-crop', 'seg=32', 'det=0', '--batch-size', 'det=2',
        '--lr', 'seg=0.002', '--fusion-dim', '4'])
    for task, variant in (('seg', 'learned'), ('seg', 'visible'),
                          ('det', 'fixed'), ('det', 'learned_scratch'),
                          ('det', WARM_RUN)):
        cfg = Config.fromfile(run_config(task, variant, 5, args))
        warm, epochs, meta = dict(seg=(2, 1, 7), det=(4, 3, 5))[task]
        expected = dict(stage1_fixed=warm,
                        learned_scratch=warm + epochs).get(variant, epochs)
        assert cfg.train_cfg.max_epochs == expected
        assert cfg.train_cfg.val_interval == expected
        learned = variant.startswith('learned')
        # The scratch run spreads about as many meta pairs over more epochs.
        assert cfg.train_cfg.meta_steps == dict(
            learned=meta, learned_scratch=-(-meta * epochs // expected)
        ).get(variant, 0)
        assert cfg.train_cfg.generator_movement == (0.4 if learned else None)
        assert cfg.randomness.seed == 5
        # Every variant but the two from-scratch runs continues stage 1.
        if variant in (WARM_RUN, 'learned_scratch'):
            assert not cfg.load_from
        else:
            assert cfg.load_from == osp.abspath(
                warm_checkpoint(args, task))
            assert cfg.load_from.endswith(f'epoch_{warm}.pth')
        for loader in (cfg.train_dataloader, cfg.val_dataloader):
            assert loader.dataset.data_root.startswith(
                msrs if task == 'seg' else llvip)
            assert loader.num_workers == 0
        size = dict(seg=(64, 48), det=(96, 64))[task]
        resizes = [t for step in cfg.train_dataloader.dataset.pipeline
                   for t in step.get('transforms', [step])
                   if t['type'].endswith('Resize')]
        assert resizes and all(tuple(t['scale']) == size for t in resizes)
        if task == 'seg':
            assert tuple(cfg.model.task_model.cfg_options.data_preprocessor
                         .size) == size[::-1]
            assert cfg.val_dataloader.dataset.ann_file.endswith(
                'bench_val.txt')
        assert cfg.val_evaluator[-1].type == 'tdfusion_mm.FusionMetric'
        if variant == 'visible':
            assert cfg.model.fusion_backbone == dict(
                type='PassThroughFusion', source='visible')
            assert cfg.model.swap_modalities is False
        crops = [t['crop_size'] for t in pipeline_steps(cfg)
                 if t['type'] == 'RandomFusionCrop']
        assert [tuple(c) for c in crops] == [
            (32, 32) if task == 'seg' else (256, 256)]
        assert cfg.train_dataloader.batch_size == (2 if task == 'det' else 4)
        for part in ('fusion_backbone', 'task_model'):
            assert cfg.optim_wrapper[part].optimizer.lr == (
                0.002 if task == 'seg' else 1e-3)
        if variant != 'visible':
            assert cfg.model.fusion_backbone.dim == 4
        fixed = variant in ('fixed', WARM_RUN)
        assert (cfg.model.loss_generator.type == 'FixedLossWeights') == fixed
        if not fixed:
            assert cfg.model.loss_generator.num_blocks == 1


def test_run_configs_light_fusion_centred_g_and_meta_batch(tmp_path):
    args = study_cli.parse_args([
        '--tasks', 'demo', '--demo', str(tmp_path / 'demo'), '--work-dir',
        str(tmp_path / 'wd'), '--fusion', 'light', '--centre-logits',
        '--meta-batch-size', '2'])
    learned = Config.fromfile(run_config('demo', 'learned', 0, args))
    assert learned.model.fusion_backbone == dict(type='GradientDenseFusion')
    assert learned.model.loss_generator.centre_logits is True
    assert learned.train_cfg.meta_batch_size == 2
    fixed = Config.fromfile(run_config('demo', 'fixed', 0, args))
    assert fixed.model.loss_generator.type == 'FixedLossWeights'
    assert 'centre_logits' not in fixed.model.loss_generator
    assert fixed.train_cfg.meta_batch_size is None


def test_frozen_design_keeps_stage_one_t(tmp_path):
    args = study_cli.parse_args([
        '--tasks', 'demo', '--demo', str(tmp_path / 'demo'), '--work-dir',
        str(tmp_path / 'wd'), '--meta-steps', 'demo=6'])
    for variant in ('fixed_frozen', 'learned_frozen'):
        cfg = Config.fromfile(run_config('demo', variant, 0, args))
        assert cfg.optim_wrapper.task_model is None
        assert cfg.model.task_checkpoint == cfg.load_from == osp.abspath(
            warm_checkpoint(args, 'demo'))
        fixed = variant == 'fixed_frozen'
        assert (cfg.model.loss_generator.type == 'FixedLossWeights') == fixed
        assert cfg.train_cfg.meta_steps == (0 if fixed else 6)
        assert not [h for h in cfg.get('custom_hooks', [])
                    if h['type'] in ('LoadOptimizerStateHook', 'EMAHook')]


def test_joint_design_carries_the_optimizer_and_scores_detectors_by_ema(
        tmp_path):
    args = study_cli.parse_args([
        '--tasks', 'demo', '--demo', str(tmp_path / 'demo'), '--work-dir',
        str(tmp_path / 'wd')])
    for variant in ('fixed', 'learned', 'visible', 'learned_scratch'):
        cfg = Config.fromfile(run_config('demo', variant, 0, args))
        hooks = {h['type']: h for h in cfg.custom_hooks}
        joint = variant in ('fixed', 'learned')
        assert ('LoadOptimizerStateHook' in hooks) == joint
        assert ('EMAHook' in hooks) == joint
        if joint:
            assert hooks['LoadOptimizerStateHook']['checkpoint'] == \
                cfg.load_from
        # The config's own hooks stay.
        assert 'LearnableFusionLossHook' in hooks
