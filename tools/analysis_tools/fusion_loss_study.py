"""Learned vs fixed fusion loss on real data: train, evaluate, write a report.

For each task (``seg``: SegFormer-B0 on MSRS, ``det``: YOLOX-tiny on LLVIP)
and each seed, four task networks are trained from scratch at one budget:

* ``visible``: on the visible image alone;
* ``infrared``: on the infrared image alone;
* ``fixed``: on F's fusion, F trained on a fixed loss (w_ir = w_vis = 0.5);
* ``learned``: TDFusion, F trained on G's learned loss.

Each run is ``tools/train.py`` on a config written to its work dir (the
variant's config with the data, the split, the budget and the seed set), and
is evaluated at the end on the held-out split: mIoU or bbox mAP@0.5, and the
fusion metrics of what T saw (for the single-modality baselines, that
modality itself). The report (markdown) holds the tables, the budget, the
time of every run and a panel IR | visible | fixed | learned | w_ir of a few
held-out pairs.

Splits: MSRS uses its fixed ``splits/bench_train.txt`` and
``splits/bench_val.txt``; the LLVIP subset has boxes for its 50 train pairs
only, so every 5th of them (sorted by id) is held out.

Example::

    python tools/analysis_tools/fusion_loss_study.py \\
        --msrs ../shared/realdata/MSRS --llvip ../shared/realdata/LLVIP \\
        --seeds 0 1 --jobs 2 --out docs/results.md
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VARIANTS = ('visible', 'infrared', 'fixed', 'learned')
FUSION_METRICS = ('EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM')
TASKS = {
    'seg': dict(
        title='Segmentation: SegFormer-B0 on MSRS',
        score='mIoU', score_key='mIoU',
        configs=dict(
            visible='configs/baselines/segformer_msrs_visible.py',
            infrared='configs/baselines/segformer_msrs_infrared.py',
            fixed='configs/baselines/segformer_msrs_fixed_loss.py',
            learned='configs/tdfusion_segformer_msrs.py')),
    'det': dict(
        title='Detection: YOLOX-tiny on LLVIP (person)',
        score='mAP@0.5', score_key='pascal_voc/mAP',
        configs=dict(
            visible='configs/baselines/yolox_llvip_visible.py',
            infrared='configs/baselines/yolox_llvip_infrared.py',
            fixed='configs/baselines/yolox_llvip_fixed_loss.py',
            learned='configs/tdfusion_yolo_llvip.py')),
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--msrs', help='MSRS root (with splits/)')
    parser.add_argument('--llvip', help='LLVIP root (with Annotations/)')
    parser.add_argument('--tasks', nargs='+', default=['seg', 'det'],
                        choices=list(TASKS))
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=VARIANTS,
                        help='runs to make (the report shows all found)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1])
    parser.add_argument('--seg-epochs', type=int, default=2)
    parser.add_argument('--det-epochs', type=int, default=4)
    parser.add_argument('--meta-steps', type=int, default=10,
                        help='meta pairs per epoch of the learned loss')
    parser.add_argument('--jobs', type=int, default=2,
                        help='runs at once (each gets cores / jobs threads)')
    parser.add_argument('--work-dir', default='work_dirs/fusion_loss_study')
    parser.add_argument('--out', default='docs/results.md')
    parser.add_argument('--panel-pairs', type=int, default=3)
    parser.add_argument('--notes',
                        help='markdown file inserted after the tables (what '
                        'the numbers mean, written after reading them)')
    parser.add_argument('--report-only', action='store_true',
                        help='rewrite the report from finished runs')
    args = parser.parse_args()
    roots = dict(seg=args.msrs, det=args.llvip)
    for task in args.tasks:
        root = roots[task]
        if not root or not osp.isdir(root):
            parser.error(f'--{"msrs" if task == "seg" else "llvip"} must name '
                         f'the dataset folder for task {task}, got {root!r}')
    args.roots = {t: osp.abspath(r) for t, r in roots.items() if r}
    return args


# ------------------------------------------------------------------ splits
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


# ------------------------------------------------------------------ configs
def run_config(task: str, variant: str, seed: int, args) -> str:
    """Write the run's config into its work dir; returns its path."""
    from mmengine.config import Config
    work_dir = osp.join(args.work_dir, task, f'{variant}_seed{seed}')
    cfg = Config.fromfile(osp.join(REPO, TASKS[task]['configs'][variant]))
    root = args.roots[task] + '/'
    if task == 'seg':
        epochs = args.seg_epochs
        train_split = osp.join(root, 'splits', 'bench_train.txt')
        val_split = osp.join(root, 'splits', 'bench_val.txt')
        prefix = dict(img_path='train/vi', ir_path='train/ir',
                      seg_map_path='train/Label')
        metric = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
    else:
        epochs = args.det_epochs
        train_split, val_split = llvip_splits(args.roots['det'],
                                              osp.join(args.work_dir, 'det'))
        prefix = dict(ir='infrared/train', vis='visible/train',
                      ann='Annotations')
        metric = dict(type='mmdet.VOCMetric', metric='mAP', iou_thrs=[0.5],
                      eval_mode='area')
    for loader, split in ((cfg.train_dataloader, train_split),
                          (cfg.val_dataloader, val_split)):
        loader.dataset.update(data_root=root, ann_file=split,
                              data_prefix=dict(prefix))
        # Loading in the main process keeps every run exactly reproducible
        # (MetaFusionTrainLoop reseeds per iteration).
        loader.update(num_workers=0, persistent_workers=False)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator = [metric, dict(type='tdfusion_mm.FusionMetric',
                                      metrics=list(FUSION_METRICS))]
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg.update(max_epochs=epochs, val_interval=epochs,
                         meta_steps=args.meta_steps
                         if variant == 'learned' else 0)
    cfg.default_hooks.checkpoint.update(interval=epochs, max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=25)
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = work_dir
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, 'run_config.py')
    cfg.dump(path)
    return path


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
    proc = subprocess.Popen(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg_path,
         '--work-dir', work_dir], stdout=log, stderr=subprocess.STDOUT,
        env=env, cwd=REPO)
    return proc, log, time.time()


def run_all(args) -> None:
    # Longest runs first, so that the pool drains evenly.
    order = ('learned', 'fixed', 'infrared', 'visible')
    queue = [(t, v, s) for v in order if v in args.variants
             for t in args.tasks for s in args.seeds
             if not final_metrics(osp.join(args.work_dir, t, f'{v}_seed{s}'))]
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    running = []
    while queue or running:
        while queue and len(running) < args.jobs:
            job = queue.pop(0)
            running.append((job, *launch(*job, args, threads)))
            print(f'started {job}', flush=True)
        time.sleep(5)
        for item in list(running):
            job, proc, log, start = item
            if proc.poll() is None:
                continue
            running.remove(item)
            log.close()
            print(f'finished {job}: exit {proc.returncode}, '
                  f'{time.time() - start:.0f} s', flush=True)


# ------------------------------------------------------------------ report
def collect(args):
    table = {}
    for task in args.tasks:
        for variant in VARIANTS:
            for seed in args.seeds:
                work_dir = osp.join(args.work_dir, task,
                                    f'{variant}_seed{seed}')
                metrics = final_metrics(work_dir)
                if metrics:
                    table[task, variant, seed] = metrics
    return table


def fmt_seeds(values, digits=3):
    """``mean (seed0 / seed1 ...)``."""
    if not values:
        return 'n/a'
    text = ' / '.join(f'{v:.{digits}f}' for v in values)
    if len(values) > 1:
        text = f'{statistics.mean(values):.{digits}f} ({text})'
    return text


def fmt_spread(values, digits=3):
    """``mean ± half the range`` over seeds."""
    if not values:
        return 'n/a'
    mean = statistics.mean(values)
    if len(values) == 1:
        return f'{mean:.{digits}f}'
    return f'{mean:.{digits}f} ± {(max(values) - min(values)) / 2:.{digits}f}'


def panel(task: str, args, out_jpg: str) -> bool:
    """IR | visible | fixed | learned | w_ir for held-out pairs (seed 0)."""
    import cv2
    import numpy as np
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from tdfusion_mm.apis import read_pair
    from tdfusion_mm.registry import MODELS
    from tdfusion_mm.utils import register_all_modules
    from tdfusion_mm.utils.checkpoint import load_checkpoint_file
    from tdfusion_mm.visualization import fusion_panel
    register_all_modules(init_default_scope=False)
    init_default_scope('tdfusion_mm')
    seed = args.seeds[0]
    models = {}
    for variant in ('fixed', 'learned'):
        work_dir = osp.join(args.work_dir, task, f'{variant}_seed{seed}')
        ckpts = sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth')))
        if not ckpts:
            return False
        cfg = Config.fromfile(osp.join(work_dir, 'run_config.py'))
        model = MODELS.build(cfg.model)
        model.load_state_dict(load_checkpoint_file(ckpts[-1])['state_dict'])
        models[variant] = model.eval()
        val_split = cfg.val_dataloader.dataset.ann_file
    with open(val_split) as f:
        ids = [line.strip() for line in f if line.strip()]
    root = args.roots[task]
    if task == 'seg':
        paths = [(osp.join(root, 'train', 'ir', i + '.png'),
                  osp.join(root, 'train', 'vi', i + '.png')) for i in ids]
    else:
        paths = [(osp.join(root, 'infrared', 'train', i + '.jpg'),
                  osp.join(root, 'visible', 'train', i + '.jpg')) for i in ids]
    rows = []
    for ir_path, vis_path in paths[:args.panel_pairs]:
        pair = read_pair(ir_path, vis_path)  # checked, scaled to [0, 1]
        ir, vis = pair['ir_unit'], pair['vis_unit']
        if vis.ndim == 2:
            vis = np.repeat(vis[..., None], 3, axis=2)
        if task == 'det':  # 1280x1024: halve for the picture
            ir = cv2.resize(ir, (640, 512), interpolation=cv2.INTER_AREA)
            vis = cv2.resize(vis, (640, 512), interpolation=cv2.INTER_AREA)
        ir_t = torch.from_numpy(ir)[None, None]
        vis_t = torch.from_numpy(vis).permute(2, 0, 1)[None]
        with torch.no_grad():
            fused = {f'{v} loss': models[v].fuse(ir_t, vis_t)['image'][0]
                     for v in ('fixed', 'learned')}
            w_ir = models['learned'].loss_weights(ir_t, vis_t)[0, :1]
        rows.append(fusion_panel(ir_t[0], vis_t[0], fused, w_ir))
    image = np.concatenate(rows, axis=0)
    scale = 1600 / image.shape[1]
    image = cv2.resize(image, None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_AREA)
    os.makedirs(osp.dirname(out_jpg), exist_ok=True)
    cv2.imwrite(out_jpg, cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 85])
    return True


def write_report(args) -> None:
    table = collect(args)
    out_dir = osp.dirname(osp.abspath(args.out))
    lines = [
        '# Learned vs fixed fusion loss on real data',
        '',
        'Made by `tools/analysis_tools/fusion_loss_study.py` (command at the '
        'end). Every task network is trained **from scratch** at the budget '
        'below, on a 2-core CPU. Scores are on held-out pairs; the fusion '
        'metrics are of the image the task network saw, at the task size '
        '(for the single-modality baselines: that modality itself), as '
        'mean ± half the range over seeds. Task scores and minutes: mean '
        '(each seed). Minutes are wall time, with other runs sharing the '
        'two cores.',
        '',
    ]
    budgets = dict(seg=args.seg_epochs, det=args.det_epochs)
    for task in args.tasks:
        spec = TASKS[task]
        lines += [f'## {spec["title"]}', '',
                  f'Budget: {budgets[task]} epochs of one pass over the '
                  f'training split (batch 1, doubled by the IR/visible swap '
                  f'for the fused variants); the learned loss adds '
                  f'{args.meta_steps} meta pairs per epoch. Seeds: '
                  f'{", ".join(map(str, args.seeds))}.', '',
                  f'| variant | {spec["score"]} | ' +
                  ' | '.join(FUSION_METRICS) + ' | minutes per run |',
                  '|---' * (len(FUSION_METRICS) + 3) + '|']
        for variant in VARIANTS:
            rows = [table[task, variant, s] for s in args.seeds
                    if (task, variant, s) in table]
            score = [100 * r[spec['score_key']]
                     if spec['score_key'] == 'pascal_voc/mAP'
                     else r[spec['score_key']] for r in rows]
            cells = [fmt_seeds(score, 2)]
            cells += [fmt_spread([r[f'fusion/{m}'] for r in rows], 3)
                      for m in FUSION_METRICS]
            cells.append(fmt_seeds([r['seconds'] / 60 for r in rows], 1))
            lines.append(f'| {variant} | ' + ' | '.join(cells) + ' |')
        jpg = osp.join(out_dir, 'results', f'{task}_panel.jpg')
        if panel(task, args, jpg):
            lines += ['', f'![{task} panel]({osp.relpath(jpg, out_dir)})', '',
                      'Held-out pairs, seed '
                      f'{args.seeds[0]}: IR | visible | fixed-loss fusion | '
                      'learned-loss fusion | G\'s infrared weight w_ir '
                      '(blue 0, red 1).']
        lines.append('')
    if args.notes:
        with open(args.notes) as f:
            lines += [f.read().strip(), '']
    lines += ['## Reproduce', '', '```',
              'python tools/analysis_tools/fusion_loss_study.py '
              f'--tasks {" ".join(args.tasks)} '
              f'--seeds {" ".join(map(str, args.seeds))} '
              f'--seg-epochs {args.seg_epochs} --det-epochs {args.det_epochs} '
              f'--meta-steps {args.meta_steps} --jobs {args.jobs} '
              '--msrs <MSRS root> --llvip <LLVIP root>', '```', '']
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines))
    print(f'report written to {args.out}')


def main():
    args = parse_args()
    sys.path.insert(0, REPO)
    if not args.report_only:
        run_all(args)
    write_report(args)


if __name__ == '__main__':
    main()
