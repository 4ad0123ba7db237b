"""The config of each run: the task's TDFusion config with the variant's
changes, the budget, the data and the seed."""
import copy
import os
import os.path as osp

from .design import FUSION_METRICS, REPO, TASKS, WARM_RUN, run_dir, \
    warm_checkpoint
from .splits import data_settings

# What each variant changes in the task's TDFusion config.
VARIANT_MODEL = dict(
    visible=dict(fusion_backbone=dict(_delete_=True, type='PassThroughFusion',
                                      source='visible'),
                 swap_modalities=False),
    infrared=dict(fusion_backbone=dict(_delete_=True, type='PassThroughFusion',
                                       source='infrared'),
                  swap_modalities=False),
    fixed=dict(loss_generator=dict(_delete_=True, type='FixedLossWeights',
                                   w_ir=0.5)),
    learned=dict(),
    learned_scratch=dict())
VARIANT_MODEL.update(
    fixed_frozen=VARIANT_MODEL['fixed'], learned_frozen=dict())
VARIANT_MODEL[WARM_RUN] = VARIANT_MODEL['fixed']
# The joint design's variants: F and T go on training from stage 1.
JOINT_VARIANTS = ('fixed', 'learned')
# The joint detectors are scored with an EMA of the model, as mmdet's YOLOX
# recipe does; a window of about 10 iterations (one epoch of LLVIP's budget),
# because the study's runs are short.
JOINT_DET_EMA = dict(type='EMAHook', ema_type='ExponentialMovingAverage',
                     momentum=0.1, update_buffers=True, priority=49)


def pipeline_steps(cfg):
    """Every transform of the train and val pipelines, wrapped ones too."""
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        for step in loader.dataset.pipeline:
            yield from step.get('transforms', [step])


def set_task_size(cfg, size) -> None:
    """Resize (and pad) every pipeline to ``size`` = (w, h); the segmentor's
    data preprocessor pads to the same size."""
    from tdfusion_mm.datasets.task_size import at_task_size
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.pipeline = at_task_size(loader.dataset.pipeline, size)
    width, height = size
    options = cfg.model.task_model.get('cfg_options', {})
    if 'size' in options.get('data_preprocessor', {}):
        options['data_preprocessor']['size'] = (height, width)


def set_fusion_crop(cfg, side: int) -> None:
    """F's training crops become ``side`` x ``side``."""
    for t in pipeline_steps(cfg):
        if t['type'] == 'RandomFusionCrop':
            t['crop_size'] = (side, side)


def narrow_fusion(cfg, dim: int) -> None:
    """F and G with one Restormer block of ``dim`` channels per branch (the
    demo's networks), for CPU budgets."""
    narrow = dict(dim=dim, num_blocks=1, num_heads=4)
    cfg.model.fusion_backbone.update(narrow)
    if 'FixedLossWeights' not in cfg.model.loss_generator['type']:
        cfg.model.loss_generator.update(narrow)


def run_config(task: str, variant: str, seed: int, args) -> str:
    """Write the run's config into its work dir; returns its path."""
    from mmengine.config import Config
    budget = args.budget[task]
    work_dir = run_dir(args, task, variant, seed)
    cfg = Config.fromfile(osp.join(REPO, TASKS[task]['config']))
    data = data_settings(task, args)
    for loader, split in ((cfg.train_dataloader, data['train']),
                          (cfg.val_dataloader, data['val'])):
        loader.dataset.update(data_root=data['root'] + '/', ann_file=split)
        if data['prefix']:
            loader.dataset.data_prefix = dict(data['prefix'])
        # Loading in the main process keeps every run exactly reproducible
        # (MetaFusionTrainLoop reseeds per iteration).
        loader.update(num_workers=0, persistent_workers=False)
    if budget['size']:
        set_task_size(cfg, budget['size'])
    if budget['crop']:
        set_fusion_crop(cfg, budget['crop'])
    if budget['batch']:
        cfg.train_dataloader.batch_size = budget['batch']
    if budget['lr']:
        for part in ('fusion_backbone', 'task_model'):
            cfg.optim_wrapper[part].optimizer.lr = budget['lr']
    if args.fusion_dim:
        narrow_fusion(cfg, args.fusion_dim)
    if args.fusion == 'light':
        cfg.model.fusion_backbone = dict(type='GradientDenseFusion')
    if args.centre_logits and 'FixedLossWeights' not in \
            cfg.model.loss_generator['type']:
        cfg.model.loss_generator.centre_logits = True
    # After the F options, which would overwrite a pass-through F. A copy:
    # merge_from_dict consumes the ``_delete_`` keys of its input.
    cfg.merge_from_dict(copy.deepcopy(dict(model=VARIANT_MODEL[variant])))
    if variant.endswith('_frozen'):
        cfg.optim_wrapper.task_model = None  # T without an optimizer
    cfg.test_dataloader = cfg.val_dataloader
    # The run's final entry must hold the fusion metrics (see final_metrics).
    cfg.val_evaluator = [data['metric'],
                         dict(type='tdfusion_mm.FusionMetric',
                              metrics=list(FUSION_METRICS))]
    cfg.test_evaluator = cfg.val_evaluator
    learned = variant.startswith('learned')
    epochs = dict(stage1_fixed=budget['warm_epochs'],
                  learned_scratch=budget['warm_epochs'] + budget['epochs']
                  ).get(variant, budget['epochs'])
    meta_steps = dict(
        learned=budget['meta_steps'], learned_frozen=budget['meta_steps'],
        learned_scratch=-(-budget['meta_steps'] * budget['epochs'] // epochs)
    ).get(variant, 0)
    cfg.train_cfg.update(
        max_epochs=epochs, val_interval=epochs, meta_steps=meta_steps,
        generator_movement=args.generator_movement if learned else None,
        meta_batch_size=args.meta_batch_size if learned else None)
    # Constant learning rates: the budgets are too short for step decay.
    cfg.param_scheduler = None
    if variant not in (WARM_RUN, 'learned_scratch'):
        cfg.load_from = osp.abspath(warm_checkpoint(args, task))
    if variant.endswith('_frozen'):
        cfg.model.task_checkpoint = cfg.load_from
    if variant in JOINT_VARIANTS:
        # Adam's moments of F and T go on too (load_from restores weights).
        hooks = [dict(type='LoadOptimizerStateHook',
                      checkpoint=cfg.load_from)]
        if TASKS[task]['kind'] == 'det':
            hooks.append(dict(JOINT_DET_EMA))
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + hooks
    cfg.default_hooks.checkpoint.update(interval=epochs, max_keep_ckpts=1,
                                        by_epoch=True)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=25)
    cfg.default_hooks.visualization = dict(
        type=cfg.default_hooks.visualization.type)
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = work_dir
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, 'run_config.py')
    cfg.dump(path)
    return path
