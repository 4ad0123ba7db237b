"""The fusion-loss study's splits, budgets, run configs and statistics (no
training here)."""
import os
import os.path as osp
import sys

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
import fusion_loss_study as study  # noqa: E402


def fake_llvip(root, n=12):
    for sub in ('Annotations', 'infrared/train', 'visible/train'):
        os.makedirs(osp.join(root, sub))
    for i in range(n):
        open(osp.join(root, 'Annotations', f'{i:06d}.xml'), 'w').close()
        open(osp.join(root, 'visible', 'train', f'{i:06d}.jpg'), 'w').close()
    # an annotation without its image is not part of either split
    open(osp.join(root, 'Annotations', '999999.xml'), 'w').close()


def test_llvip_split_holds_out_every_fifth(tmp_path):
    root = str(tmp_path / 'llvip')
    fake_llvip(root)
    train, val = study.llvip_splits(root, str(tmp_path / 'out'))
    assert osp.isabs(train) and osp.isabs(val)
    ids = [open(p).read().split() for p in (train, val)]
    assert ids[1] == ['000004', '000009']
    assert len(ids[0]) == 10 and not set(ids[0]) & set(ids[1])


def test_budgets_per_task_and_bad_values(tmp_path):
    args = study.parse_args([
        '--tasks', 'demo', '--work-dir', str(tmp_path), '--epochs', 'demo=3',
        '--meta-steps', 'demo=7', '--size', 'seg=160x120'])
    assert args.budget['demo']['epochs'] == 3
    assert args.budget['demo']['meta_steps'] == 7
    assert args.budget['seg']['size'] == (160, 120)
    with pytest.raises(SystemExit):
        study.parse_args(['--epochs', 'nosuchtask=3'])
    with pytest.raises(SystemExit):  # a real-data task needs its root
        study.parse_args(['--tasks', 'seg'])


def test_run_configs_warm_start_budget_seed_size_and_metrics(tmp_path):
    llvip = str(tmp_path / 'llvip')
    fake_llvip(llvip)
    msrs = str(tmp_path / 'msrs')
    os.makedirs(osp.join(msrs, 'splits'))
    args = study.parse_args([
        '--tasks', 'seg', 'det', '--msrs', msrs, '--llvip', llvip,
        '--work-dir', str(tmp_path / 'wd'), '--warm-epochs', 'seg=2', 'det=4',
        '--epochs', 'seg=1', 'det=3', '--meta-steps', 'seg=7', 'det=5',
        '--size', 'seg=64x48', 'det=96x64', '--generator-movement', '0.4',
        '--fusion-crop', 'seg=32', 'det=0', '--batch-size', 'det=2',
        '--lr', 'seg=0.002', '--fusion-dim', '4'])
    for task, variant in (('seg', 'learned'), ('seg', 'visible'),
                          ('det', 'fixed'), ('det', 'learned_scratch'),
                          ('det', study.WARM_RUN)):
        cfg = Config.fromfile(study.run_config(task, variant, 5, args))
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
        if variant in (study.WARM_RUN, 'learned_scratch'):
            assert not cfg.load_from
        else:
            assert cfg.load_from == osp.abspath(
                study.warm_checkpoint(args, task))
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
        crops = [t['crop_size'] for t in study.pipeline_steps(cfg)
                 if t['type'] == 'RandomFusionCrop']
        assert [tuple(c) for c in crops] == [
            (32, 32) if task == 'seg' else (256, 256)]
        assert cfg.train_dataloader.batch_size == (2 if task == 'det' else 4)
        for part in ('fusion_backbone', 'task_model'):
            assert cfg.optim_wrapper[part].optimizer.lr == (
                0.002 if task == 'seg' else 1e-3)
        if variant == 'visible':
            assert cfg.model.fusion_backbone == dict(
                type='PassThroughFusion', source='visible')
            assert cfg.model.swap_modalities is False
        else:
            assert cfg.model.fusion_backbone.dim == 4
        fixed = variant in ('fixed', study.WARM_RUN)
        assert (cfg.model.loss_generator.type == 'FixedLossWeights') == fixed
        if not fixed:
            assert cfg.model.loss_generator.num_blocks == 1


def test_run_configs_light_fusion_centred_g_and_meta_batch(tmp_path):
    args = study.parse_args([
        '--tasks', 'demo', '--demo', str(tmp_path / 'demo'), '--work-dir',
        str(tmp_path / 'wd'), '--fusion', 'light', '--centre-logits',
        '--meta-batch-size', '2'])
    learned = Config.fromfile(study.run_config('demo', 'learned', 0, args))
    assert learned.model.fusion_backbone == dict(type='GradientDenseFusion')
    assert learned.model.loss_generator.centre_logits is True
    assert learned.train_cfg.meta_batch_size == 2
    fixed = Config.fromfile(study.run_config('demo', 'fixed', 0, args))
    assert fixed.model.loss_generator.type == 'FixedLossWeights'
    assert 'centre_logits' not in fixed.model.loss_generator
    assert fixed.train_cfg.meta_batch_size is None


def test_frozen_design_keeps_stage_one_t(tmp_path):
    args = study.parse_args([
        '--tasks', 'demo', '--demo', str(tmp_path / 'demo'), '--work-dir',
        str(tmp_path / 'wd'), '--meta-steps', 'demo=6'])
    for variant in ('fixed_frozen', 'learned_frozen'):
        cfg = Config.fromfile(study.run_config('demo', variant, 0, args))
        assert cfg.optim_wrapper.task_model is None
        assert cfg.model.task_checkpoint == cfg.load_from == osp.abspath(
            study.warm_checkpoint(args, 'demo'))
        fixed = variant == 'fixed_frozen'
        assert (cfg.model.loss_generator.type == 'FixedLossWeights') == fixed
        assert cfg.train_cfg.meta_steps == (0 if fixed else 6)


def test_paired_difference_counts_signs():
    table = {('demo', 'learned', s): {'pascal_voc/mAP': v}
             for s, v in enumerate((0.6, 0.5, 0.7))}
    table.update({('demo', 'fixed', s): {'pascal_voc/mAP': v}
                  for s, v in enumerate((0.5, 0.55, 0.6))})
    text = study.paired_difference('demo', table, [0, 1, 2])
    assert text.startswith('+5.00') and 'better in 2 of 3' in text
    assert '+10.00, -5.00, +10.00' in text
    # sd 8.66, t(2) = 4.303: half width 21.52; 2 of 3 signs: p = 1.
    assert '95 % interval [-16.52, +26.52]' in text and 'p = 1 (' in text
    assert study.sign_test_p([1.0] * 8) == 2 / 2**8
    assert study.sign_test_p([1.0, -1.0, 0.0]) == 1.0
    assert study.mean_std([1.0, 2.0, 3.0]) == '2.00 ± 1.00 (1.00 / 2.00 / ' \
        '3.00)'


def fake_finished_run(args, variant, seed, score):
    """A run as train.py leaves it: the (untrained) model's checkpoint and a
    final validation entry in scalars.json."""
    import json

    import torch

    from tdfusion_mm.registry import MODELS
    cfg = Config.fromfile(study.run_config('demo', variant, seed, args))
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
    entry.update({f'fusion/{m}': 1.0 for m in study.FUSION_METRICS})
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
    args = study.parse_args([
        '--tasks', 'demo', '--seeds', '0', '1', '--device', 'cpu',
        '--work-dir', str(tmp_path / 'wd'), '--out', str(out),
        '--report-only', '--panel-pairs', '2'])
    for seed, (learned, fixed) in enumerate(((0.6, 0.5), (0.4, 0.45))):
        fake_finished_run(args, 'learned', seed, learned)
        fake_finished_run(args, 'fixed', seed, fixed)
    study.write_report(args)
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
