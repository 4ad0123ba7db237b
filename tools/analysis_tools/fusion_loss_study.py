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
   * (``fixed`` and ``learned`` form the joint design, the paper's: they
     carry stage 1's optimizer state of F and T on, and detectors are
     scored with an EMA of the model, as mmdet's YOLOX recipe does;)
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

With ``--downstream``, the downstream design follows (the field's
protocol): each task's stock network of ``configs/downstream/`` is trained
on the training split fused by each joint run's F (``tools/fuse_split.py``)
with the run's seed, and tested on the held-out split
(``tools/analysis_tools/compare_fusions.py``).

Splits: the demo scenes' own train/test split; MSRS's fixed
``splits/bench_train.txt`` / ``bench_val.txt``; the LLVIP subset has boxes
for its 50 train pairs only, so every 5th of them (sorted by id) is held out.

Example (2-core CPU; ``--device cuda`` on a GPU machine)::

    python tools/analysis_tools/fusion_loss_study.py --tasks demo seg det \\
        --msrs ../shared/realdata/MSRS --llvip ../shared/realdata/LLVIP \\
        --seeds 0 1 2 --out docs/results.md
"""
import argparse
import os.path as osp

from tdfusion_mm.study import (BUDGET_OPTIONS, TASKS, VARIANTS, run_all,
                               run_downstream, task_budgets, write_report)


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
    parser.add_argument('--downstream', action='store_true',
                        help='after the runs, the downstream design: each '
                        "task's configs/downstream/ network retrained on the "
                        'fused images of every joint run (fixed, learned)')
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


def main(argv=None):
    args = parse_args(argv)
    from tdfusion_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    if not args.report_only:
        run_all(args)
        if args.downstream:
            run_downstream(args)
    write_report(args)


if __name__ == '__main__':
    main()
