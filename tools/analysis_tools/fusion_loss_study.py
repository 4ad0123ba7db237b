"""Learned vs fixed fusion loss: train, evaluate, write a report.

Three tasks: ``demo`` (the small YOLOX of the demo on the synthetic demo
scenes, People and Car), ``seg`` (SegFormer-B0 on the MSRS bench split) and
``det`` (YOLOX-tiny on LLVIP). For each task:

1. **Stage 1** (one run, seed 0): F and T from scratch for
   ``--warm-epochs`` epochs on the fixed fusion loss (w_ir = w_vis = 0.5).
   It gives T something to tell G: a task network trained from scratch has
   learnt nothing that its loss could pass on. Fixed-loss fusions, rather
   than the sources, because they are what F produces before G has moved
   (G starts near 0.5 / 0.5), so every variant below starts from the same
   F and T.
2. **Variants**, each continuing from the stage-1 checkpoint for
   ``--epochs`` epochs, with every seed of ``--seeds``:

   * ``visible`` / ``infrared``: T alone on that modality (F unused);
   * ``fixed``: F on the fixed loss, T on its fusions;
   * ``learned``: TDFusion: ``--meta-steps`` meta pairs per epoch learn G
     (its step sized by ``train_cfg.generator_movement``), F on G's loss,
     T on its fusions;
   * ``learned_scratch``: the paper's setting, TDFusion from scratch for
     ``--warm-epochs + --epochs`` epochs with the same G budget: about as
     many meta pairs in all as ``learned`` (spread over its epochs, rounded
     up per epoch) and the same ``generator_movement``;
   * ``fixed_frozen`` / ``learned_frozen`` ("fit F to the task network I
     have"): as ``fixed`` / ``learned``, with stage 1's T frozen
     (``optim_wrapper.task_model=None``, T from the stage-1 checkpoint): only F
     and G differ, so T's training noise is out of the comparison.

Every run is ``tools/train.py`` on a config written into its work dir and
is evaluated at its end on the held-out split (mIoU or bbox mAP@0.5, and
the fusion metrics of what T saw). For the learned variants, G's infrared
weight is measured on the held-out pairs, on the pixels of the annotated
objects (boxes, or mask classes other than 0) and on the rest. The report
gives per variant the mean and standard deviation over seeds, per design
(joint: ``learned - fixed``; frozen T: ``learned_frozen - fixed_frozen``)
the paired difference per seed with its mean, a 95 % t interval and the
two-sided exact sign-test p-value, G's weights, the wall time of every
run, and a panel.

Splits: the demo scenes' own train/test split; MSRS's fixed
``splits/bench_train.txt`` / ``bench_val.txt``; the LLVIP subset has boxes
for its 50 train pairs only, so every 5th of them (sorted by id) is held out.

Example (2-core CPU; ``--device cuda`` on a GPU machine)::

    python tools/analysis_tools/fusion_loss_study.py --tasks demo seg det \\
        --msrs ../shared/realdata/MSRS --llvip ../shared/realdata/LLVIP \\
        --seeds 0 1 2 --out docs/results.md
"""
import argparse
import copy
import glob
import json
import math
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VARIANTS = ('visible', 'infrared', 'fixed', 'learned', 'learned_scratch',
            'fixed_frozen', 'learned_frozen')
# (design, learned variant, fixed variant) of the paired differences.
DESIGNS = (('joint', 'learned', 'fixed'),
           ('frozen T', 'learned_frozen', 'fixed_frozen'))
# Two-sided 95 % quantiles of Student's t for 1..10 degrees of freedom.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
         2.228)
WARM_RUN = 'stage1_fixed'
VOC_MAP50 = dict(type='mmdet.VOCMetric', metric='mAP', iou_thrs=[0.5],
                 eval_mode='area')
FUSION_METRICS = ('EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM')
TASKS = {
    'demo': dict(
        title='Detection on the synthetic demo scenes: small YOLOX, '
        'People and Car',
        kind='det', config='configs/tdfusion_yolo_demo.py',
        score='mAP@0.5', score_key='pascal_voc/mAP'),
    'seg': dict(
        title='Segmentation: SegFormer-B0 on MSRS (real, bench split)',
        kind='seg', config='configs/tdfusion_segformer_msrs.py',
        score='mIoU', score_key='mIoU'),
    'det': dict(
        title='Detection: YOLOX-tiny on LLVIP (real, person)',
        kind='det', config='configs/tdfusion_yolo_llvip.py',
        score='mAP@0.5', score_key='pascal_voc/mAP'),
}
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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--tasks', nargs='+', default=['demo'],
                        choices=list(TASKS))
    parser.add_argument('--demo', help='demo data folder (generated there '
                        'if missing); defaults to <work-dir>/demo_data')
    parser.add_argument('--msrs', help='MSRS root (with splits/)')
    parser.add_argument('--llvip', help='LLVIP root (with Annotations/)')
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=VARIANTS,
                        help='runs to make (the report shows all found)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    for flag, _, metavar, help_text in BUDGET_OPTIONS:
        parser.add_argument(f'--{flag.replace("_", "-")}', nargs='+',
                            default=None, metavar=metavar, help=help_text)
    parser.add_argument('--generator-movement', type=float, default=0.8,
                        help="G's step budget (train_cfg.generator_movement"
                        '; the paper\'s 1e-4 x 8000 pairs = 0.8)')
    parser.add_argument('--fusion-dim', type=int, default=8,
                        help='width of F and G (one Restormer block of this '
                        'many channels per branch, as the demo); 0 keeps the '
                        "config's networks (the paper's)")
    parser.add_argument('--fusion', default='refusion',
                        choices=['refusion', 'light'],
                        help='F: ReFusion (narrowed by --fusion-dim) or the '
                        'light GradientDenseFusion')
    parser.add_argument('--centre-logits', action='store_true',
                        help="G's logit difference centred per image with a "
                        'learned balance (model.loss_generator.centre_logits'
                        ', beyond the paper)')
    parser.add_argument('--meta-batch-size', type=int, default=None,
                        help='train_cfg.meta_batch_size of the learned runs '
                        '(both batches of a meta pair from one batch)')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs at once (on the CPU each gets cores / jobs '
                        'threads)')
    parser.add_argument('--work-dir', default='work_dirs/fusion_loss_study')
    parser.add_argument('--out', default='docs/results.md')
    parser.add_argument('--panel-pairs', type=int, default=3)
    parser.add_argument('--notes',
                        help='markdown file inserted after the tables (what '
                        'the numbers mean, written after reading them)')
    parser.add_argument('--report-only', action='store_true',
                        help='rewrite the report from finished runs')
    args = parser.parse_args(argv)
    args.budget = task_budgets(args, parser)
    roots = dict(demo=args.demo or osp.join(args.work_dir, 'demo_data'),
                 seg=args.msrs, det=args.llvip)
    for task in args.tasks:
        if task != 'demo' and not (roots[task] and osp.isdir(roots[task])):
            flag = '--msrs' if task == 'seg' else '--llvip'
            parser.error(f'{flag} must name the dataset folder for task '
                         f'{task}, got {roots[task]!r}')
    args.roots = {t: osp.abspath(r) for t, r in roots.items() if r}
    return args


# Default budgets: epochs of stage 1, epochs after it, meta pairs per epoch,
# task size (w, h), F's crop side, the train batch size and F's and T's
# learning rate (None: the config's; the paper's 1e-4 is for pretrained task
# networks and 40 epochs). Sized for about 1.5 hours on 2 cores with
# --fusion-dim 8 and --jobs 2.
TASK_BUDGETS = dict(
    demo=dict(warm_epochs=6, epochs=4, meta_steps=15, size=None, crop=None,
              batch=None, lr=None),
    seg=dict(warm_epochs=8, epochs=2, meta_steps=12, size=(160, 120),
             crop=64, batch=4, lr=1e-3),
    det=dict(warm_epochs=12, epochs=4, meta_steps=10, size=(160, 128),
             crop=64, batch=4, lr=1e-3))

# The options overriding TASK_BUDGETS, TASK=VALUE each: (argument, key of
# TASK_BUDGETS, metavar, help).
BUDGET_OPTIONS = (
    ('warm_epochs', 'warm_epochs', 'TASK=N',
     'stage-1 epochs per task, e.g. demo=6 seg=10 (default: see '
     'TASK_BUDGETS)'),
    ('epochs', 'epochs', 'TASK=N',
     'epochs of every variant after stage 1, per task'),
    ('meta_steps', 'meta_steps', 'TASK=N',
     'meta pairs per epoch of the learned variants, per task'),
    ('size', 'size', 'TASK=WxH',
     "task size per task, e.g. seg=160x120 (0: the config's)"),
    ('fusion_crop', 'crop', 'TASK=N',
     "side of F's square training crops per task (0: the config's)"),
    ('lr', 'lr', 'TASK=LR',
     "F's and T's learning rate per task (0: the config's)"),
    ('batch_size', 'batch', 'TASK=N',
     "train batch size per task (0: the config's)"),
)


def task_budgets(args, parser) -> dict:
    """Per-task budgets: the defaults, overridden by ``TASK=value``."""
    budgets = {t: dict(b) for t, b in TASK_BUDGETS.items()}
    for flag, key, _, _ in BUDGET_OPTIONS:
        for item in getattr(args, flag) or []:
            task, _, value = str(item).partition('=')
            try:
                if task not in budgets:
                    raise ValueError
                if key == 'size' and value != '0':
                    width, height = value.split('x')
                    number = (int(width), int(height))
                else:
                    number = (float if key == 'lr' else int)(value)
            except ValueError:
                parser.error(f'--{flag.replace("_", "-")}: expected '
                             f'TASK=VALUE with TASK in {list(budgets)}, got '
                             f'{item!r}')
            budgets[task][key] = number or None
    return budgets


# ------------------------------------------------------------------ data
def demo_data(root: str) -> str:
    """The demo scenes (as ``tools/misc/make_demo_data.py`` makes them)."""
    from tdfusion_mm.testing import DEMO_DATA, generate_demo_dataset
    generate_demo_dataset(root, **DEMO_DATA)
    return osp.join(root, 'm3fd')


def llvip_splits(root: str, out_dir: str):
    """Every 5th annotated train pair (sorted ids) held out; returns the two
    split files."""
    ids = sorted(osp.splitext(f)[0]
                 for f in os.listdir(osp.join(root, 'Annotations'))
                 if f.endswith('.xml') and osp.exists(
                     osp.join(root, 'visible', 'train', f[:-4] + '.jpg')))
    if len(ids) < 5:
        raise RuntimeError(f'{root}: fewer than 5 annotated train pairs')
    val = ids[4::5]
    train = [i for i in ids if i not in val]
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, part in (('train', train), ('val', val)):
        # Absolute: the dataset would join a relative one to its data_root.
        path = osp.abspath(osp.join(out_dir, f'llvip_{name}.txt'))
        with open(path, 'w') as f:
            f.write('\n'.join(part) + '\n')
        paths.append(path)
    return paths


def data_settings(task: str, args) -> dict:
    """Root, splits, folder keys and metric of a task's data."""
    if task == 'demo':
        root = demo_data(args.roots['demo'])
        return dict(root=root, train=osp.join(root, 'splits', 'train.txt'),
                    val=osp.join(root, 'splits', 'test.txt'), prefix=None,
                    metric=VOC_MAP50)
    root = args.roots[task]
    if task == 'seg':
        return dict(
            root=root, train=osp.join(root, 'splits', 'bench_train.txt'),
            val=osp.join(root, 'splits', 'bench_val.txt'),
            prefix=dict(img_path='train/vi', ir_path='train/ir',
                        seg_map_path='train/Label'),
            metric=dict(type='mmseg.IoUMetric', iou_metrics=['mIoU']))
    train, val = llvip_splits(root, osp.join(args.work_dir, 'det'))
    return dict(root=root, train=train, val=val,
                prefix=dict(img_path='visible/train',
                            ir_path='infrared/train',
                            xml_path='Annotations'),
                metric=VOC_MAP50)


# ------------------------------------------------------------------ configs
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


def run_dir(args, task: str, variant: str, seed: int) -> str:
    name = WARM_RUN if variant == WARM_RUN else f'{variant}_seed{seed}'
    return osp.join(args.work_dir, task, name)


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
    # A copy: merge_from_dict consumes the ``_delete_`` keys of its input.
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


def warm_checkpoint(args, task: str) -> str:
    return osp.join(run_dir(args, task, WARM_RUN, 0),
                    f'epoch_{args.budget[task]["warm_epochs"]}.pth')


# ------------------------------------------------------------------ running
def final_metrics(work_dir: str) -> dict:
    """The last validation entry of the run's ``scalars.json``, with the
    run's wall time in ``seconds`` (from the start stamp of its log folder
    to the last write of the file)."""
    found = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if any(k.startswith('fusion/') for k in entry):
                    found = entry
                    stamp = osp.basename(osp.dirname(osp.dirname(path)))
                    started = time.mktime(
                        time.strptime(stamp, '%Y%m%d_%H%M%S'))
                    found['seconds'] = osp.getmtime(path) - started
    return found


def launch(task, variant, seed, args, threads):
    cfg_path = run_config(task, variant, seed, args)
    work_dir = osp.dirname(cfg_path)
    log = open(osp.join(work_dir, 'study_stdout.log'), 'w')
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    if args.device == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    proc = subprocess.Popen(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg_path,
         '--work-dir', work_dir], stdout=log, stderr=subprocess.STDOUT,
        env=env, cwd=REPO)
    return proc, log, time.time()


def run_queue(queue, args) -> None:
    """Run the (task, variant, seed) jobs, ``args.jobs`` at a time."""
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    running, failed = [], []
    while queue or running:
        while queue and len(running) < args.jobs:
            job = queue.pop(0)
            running.append((job, *launch(*job, args, threads)))
            print(f'started {job}', flush=True)
        time.sleep(2)
        for item in list(running):
            job, proc, log, start = item
            if proc.poll() is None:
                continue
            running.remove(item)
            log.close()
            print(f'finished {job}: exit {proc.returncode}, '
                  f'{time.time() - start:.0f} s', flush=True)
            if proc.returncode:
                failed.append(job)
    if failed:
        raise RuntimeError(f'runs failed: {failed}; see study_stdout.log in '
                           'their work dirs')


def run_all(args) -> None:
    """Stage 1 of every task, then the variants."""
    def todo(task, variant, seed):
        work_dir = run_dir(args, task, variant, seed)
        return not final_metrics(work_dir)

    run_queue([(t, WARM_RUN, 0) for t in args.tasks if todo(t, WARM_RUN, 0)],
              args)
    # Seed by seed, so that partial results compare the variants; the
    # frozen-T design (the one without T's training noise) first, the
    # paper's from-scratch setting (the longest runs) last.
    order = ('learned_frozen', 'fixed_frozen', 'learned', 'fixed',
             'infrared', 'visible')
    jobs = [(t, v, s) for s in args.seeds for t in args.tasks for v in order]
    jobs += [(t, 'learned_scratch', s) for s in args.seeds for t in args.tasks]
    run_queue([job for job in jobs
               if job[1] in args.variants and todo(*job)], args)


# ------------------------------------------------------------------ G
def load_run_model(work_dir: str, device: str):
    """The run's config and trained model (last checkpoint), in eval mode."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from tdfusion_mm.registry import MODELS
    from tdfusion_mm.utils.checkpoint import load_checkpoint_file
    ckpts = sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth')),
                   key=lambda p: int(p.rsplit('_', 1)[1][:-4]))
    if not ckpts:
        return None, None
    cfg = Config.fromfile(osp.join(work_dir, 'run_config.py'))
    init_default_scope('tdfusion_mm')
    model = MODELS.build(cfg.model)
    model.load_state_dict(load_checkpoint_file(ckpts[-1])['state_dict'])
    return cfg, model.to(device).eval()


def generator_weights(work_dir: str, device: str) -> dict:
    """G's mean infrared weight on the held-out pairs, on the annotated
    objects' pixels and on the rest (cached in ``g_weights.json``)."""
    import torch
    from mmengine.dataset import pseudo_collate

    from tdfusion_mm.registry import DATASETS
    from tdfusion_mm.utils import ObjectBackgroundMean
    cache = osp.join(work_dir, 'g_weights.json')
    if osp.exists(cache):
        with open(cache) as f:
            return json.load(f)
    cfg, model = load_run_model(work_dir, device)
    if model is None:
        return {}
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    means = ObjectBackgroundMean()
    with torch.no_grad():
        for i in range(len(dataset)):
            data = model.data_preprocessor(pseudo_collate([dataset[i]]),
                                           False)
            inputs = data['inputs']
            w_ir = model.loss_weights(inputs['ir'], inputs['vis'])[:, :1]
            means.add(w_ir, data['data_samples'], boxes_scaled=False)
    result = {f'w_ir_{k}': v for k, v in means.result().items()}
    with open(cache, 'w') as f:
        json.dump(result, f)
    return result


# ------------------------------------------------------------------ report
def collect(args) -> dict:
    table = {}
    for task in args.tasks:
        for variant in VARIANTS:
            for seed in args.seeds:
                work_dir = run_dir(args, task, variant, seed)
                metrics = final_metrics(work_dir)
                if not metrics:
                    continue
                if variant.startswith('learned'):
                    metrics.update(generator_weights(work_dir, args.device))
                table[task, variant, seed] = metrics
        warm = final_metrics(run_dir(args, task, WARM_RUN, 0))
        if warm:
            table[task, WARM_RUN, 0] = warm
    return table


def task_score(task: str, metrics: dict) -> float:
    """mIoU in %, or mAP@0.5 in % (mmdet reports a fraction)."""
    key = TASKS[task]['score_key']
    return 100 * metrics[key] if key == 'pascal_voc/mAP' else metrics[key]


def mean_std(values, digits=2) -> str:
    """``mean ± std (v1 / v2 / ...)``; std is the sample standard
    deviation."""
    if not values:
        return 'n/a'
    each = ' / '.join(f'{v:.{digits}f}' for v in values)
    if len(values) == 1:
        return each
    return (f'{statistics.mean(values):.{digits}f} ± '
            f'{statistics.stdev(values):.{digits}f} ({each})')


def sign_test_p(diffs) -> float:
    """Two-sided exact sign-test p-value of paired differences (zeros
    dropped)."""
    nonzero = [d for d in diffs if d != 0]
    n = len(nonzero)
    if not n:
        return 1.0
    k = min(sum(d > 0 for d in nonzero), sum(d < 0 for d in nonzero))
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_difference(task, table, seeds, learned='learned',
                      fixed='fixed') -> str:
    """``learned - fixed`` per seed, its mean, a 95 % t interval, the
    sign-test p-value and how many seeds are > 0."""
    diffs = [task_score(task, table[task, learned, s]) -
             task_score(task, table[task, fixed, s]) for s in seeds
             if (task, learned, s) in table and (task, fixed, s) in table]
    if not diffs:
        return 'n/a'
    each = ', '.join(f'{d:+.2f}' for d in diffs)
    positive = sum(d > 0 for d in diffs)
    mean = statistics.mean(diffs)
    interval = ''
    if 2 <= len(diffs) <= len(T_975) + 1:
        half = T_975[len(diffs) - 2] * statistics.stdev(diffs) / math.sqrt(
            len(diffs))
        interval = f', 95 % interval [{mean - half:+.2f}, {mean + half:+.2f}]'
    return (f'{mean:+.2f}{interval}, sign test p = '
            f'{sign_test_p(diffs):.3g} (per seed: {each}; learned better in '
            f'{positive} of {len(diffs)})')


def panel(task: str, args, out_jpg: str) -> bool:
    """IR | visible | fixed | learned | w_ir of held-out pairs (first
    seed)."""
    import cv2
    import numpy as np
    import torch

    from tdfusion_mm.apis import read_pair
    from tdfusion_mm.registry import DATASETS
    from tdfusion_mm.visualization import fusion_panel
    seed = args.seeds[0]
    models = {}
    for variant in ('fixed', 'learned'):
        cfg, model = load_run_model(run_dir(args, task, variant, seed),
                                    args.device)
        if model is None:
            return False
        models[variant] = model
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    rows = []
    for i in range(min(args.panel_pairs, len(dataset))):
        info = dataset.get_data_info(i)
        pair = read_pair(info['ir_path'], info['img_path'])  # checked, [0, 1]
        ir, vis = pair['ir_unit'], pair['vis_unit']
        if vis.ndim == 2:
            vis = np.repeat(vis[..., None], 3, axis=2)
        scale = min(1.0, 640 / ir.shape[1])
        if scale < 1:
            ir, vis = (cv2.resize(x, None, fx=scale, fy=scale,
                                  interpolation=cv2.INTER_AREA)
                       for x in (ir, vis))
        ir_t = torch.from_numpy(ir)[None, None].to(args.device)
        vis_t = torch.from_numpy(vis).permute(2, 0, 1)[None].to(args.device)
        with torch.no_grad():
            fused = {f'{v} loss': models[v].fuse(ir_t, vis_t)['image'][0]
                     for v in ('fixed', 'learned')}
            w_ir = models['learned'].loss_weights(ir_t, vis_t)[0, :1]
        rows.append(fusion_panel(ir_t[0], vis_t[0], fused, w_ir))
    image = np.concatenate(rows, axis=0)
    scale = 1600 / image.shape[1]
    image = cv2.resize(image, None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_AREA if scale < 1 else
                       cv2.INTER_NEAREST)
    os.makedirs(osp.dirname(out_jpg), exist_ok=True)
    if not cv2.imwrite(out_jpg, cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                       [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise OSError(f'cannot write {out_jpg}')
    return True


def minutes(rows) -> str:
    return ' / '.join(f'{r["seconds"] / 60:.1f}' for r in rows) or 'n/a'


def task_section(task: str, table: dict, args, out_dir: str) -> list:
    spec, budget = TASKS[task], args.budget[task]
    size = budget['size']
    size_text = (f'task size {size[0]}x{size[1]} (w x h)' if size else
                 "the config's task size")
    warm = table.get((task, WARM_RUN, 0))
    lines = [
        f'## {spec["title"]}', '',
        f'Budget: stage 1 (fixed loss, seed 0) {budget["warm_epochs"]} '
        f'epochs'
        + (f' ({warm["seconds"] / 60:.1f} min, {spec["score"]} '
           f'{task_score(task, warm):.2f})' if warm else '') +
        f'; then {budget["epochs"]} epochs per variant; the learned '
        f'variants add {budget["meta_steps"]} meta pairs per epoch with '
        f'generator_movement {args.generator_movement}; {size_text}; '
        + (f"F's crops {budget['crop']}x{budget['crop']}; "
           if budget['crop'] else '')
        + (f"batch {budget['batch']}; " if budget['batch'] else '')
        + (f"F and T learning rate {budget['lr']:g}; " if budget['lr']
           else '')
        + (f'F and G one Restormer block of {args.fusion_dim} channels; '
           if args.fusion_dim else "F and G the config's; ") +
        f'seeds {", ".join(map(str, args.seeds))}.', '',
        f'| variant | {spec["score"]} (mean ± std, per seed) | '
        'G w_ir on objects | G w_ir on background | minutes per run |',
        '|---|---|---|---|---|']
    for variant in VARIANTS:
        rows = [table[task, variant, s] for s in args.seeds
                if (task, variant, s) in table]
        cells = [mean_std([task_score(task, r) for r in rows])]
        for key in ('w_ir_objects', 'w_ir_background'):
            values = [r[key] for r in rows if key in r]
            cells.append(mean_std(values, 3) if values else '-')
        cells.append(minutes(rows))
        lines.append(f'| {variant} | ' + ' | '.join(cells) + ' |')
    lines.append('')
    for design, learned, fixed in DESIGNS:
        lines.append(
            f'Paired difference {learned} - {fixed} ({design}, '
            f'{spec["score"]}): '
            f'{paired_difference(task, table, args.seeds, learned, fixed)}.')
    lines += ['', 'Fusion metrics of what T saw (mean over seeds; for '
              'visible/infrared, that image itself):', '',
              '| variant | ' + ' | '.join(FUSION_METRICS) + ' |',
              '|---' * (len(FUSION_METRICS) + 1) + '|']
    for variant in VARIANTS:
        rows = [table[task, variant, s] for s in args.seeds
                if (task, variant, s) in table]
        if rows:
            lines.append(f'| {variant} | ' + ' | '.join(
                f'{statistics.mean(r[f"fusion/{m}"] for r in rows):.3f}'
                for m in FUSION_METRICS) + ' |')
    jpg = osp.join(out_dir, 'results', f'{task}_panel.jpg')
    if panel(task, args, jpg):
        lines += ['', f'![{task} panel]({osp.relpath(jpg, out_dir)})', '',
                  f'Held-out pairs, seed {args.seeds[0]}: IR | visible | '
                  'fixed-loss fusion | learned-loss fusion | G\'s infrared '
                  'weight w_ir (blue 0, red 1).']
    return lines + ['']


def budget_text(value) -> str:
    """A budget value as its flag takes it (0 for the config's)."""
    if value is None:
        return '0'
    if isinstance(value, tuple):
        return f'{value[0]}x{value[1]}'
    return f'{value:g}'


def reproduce_command(args) -> str:
    budget = args.budget
    parts = ['python tools/analysis_tools/fusion_loss_study.py',
             f'--tasks {" ".join(args.tasks)}',
             f'--seeds {" ".join(map(str, args.seeds))}']
    for flag, key, _, _ in BUDGET_OPTIONS:
        values = [f'{t}={budget_text(budget[t][key])}' for t in args.tasks]
        parts.append(f'--{flag.replace("_", "-")} ' + ' '.join(values))
    parts.append(f'--fusion-dim {args.fusion_dim} --jobs {args.jobs}')
    parts.append(f'--generator-movement {args.generator_movement}')
    if 'seg' in args.tasks:
        parts.append('--msrs <MSRS root>')
    if 'det' in args.tasks:
        parts.append('--llvip <LLVIP root>')
    return ' \\\n    '.join(parts)


def write_report(args) -> None:
    table = collect(args)
    out_dir = osp.dirname(osp.abspath(args.out))
    lines = [
        '# Learned vs fixed fusion loss', '',
        'Made by `tools/analysis_tools/fusion_loss_study.py` (command at the '
        'end; its docstring describes the design). All variants of a task '
        'continue from one stage-1 checkpoint (F and T trained on the fixed '
        'loss), except `learned_scratch`, the paper\'s from-scratch setting. '
        'Scores are on held-out pairs, in %. Minutes are the wall time of '
        'each run (seed order), on the machine and load of the day.', '']
    for task in args.tasks:
        lines += task_section(task, table, args, out_dir)
    if args.notes:
        with open(args.notes) as f:
            lines += [f.read().strip(), '']
    lines += ['## Reproduce', '', '```', reproduce_command(args), '```', '']
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines))
    print(f'report written to {args.out}')


def main(argv=None):
    args = parse_args(argv)
    from tdfusion_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    if not args.report_only:
        run_all(args)
    write_report(args)


if __name__ == '__main__':
    main()
