"""The study's report: per task the scores, paired differences, G's
weights, fusion metrics and a panel, and the command that reproduces it."""
import os
import os.path as osp
import statistics

from .budgets import BUDGET_OPTIONS, budget_text
from .design import (DESIGNS, FUSION_METRICS, TASKS, VARIANTS, WARM_RUN,
                     run_dir, task_score)
from .downstream import JOINT, downstream_scores
from .generator_measure import generator_weights, load_run_model
from .paired_stats import mean_std, paired_difference
from .scheduler import final_metrics


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
    table.update(downstream_scores(args))
    return table


def panel(task: str, args, out_jpg: str):
    """IR | visible | fixed | learned | w_ir of held-out pairs (first
    seed), for the first design of ``DESIGNS`` with both runs; returns the
    design's name, or None without one."""
    import cv2
    import numpy as np
    import torch

    from tdfusion_mm.apis import read_pair
    from tdfusion_mm.registry import DATASETS
    from tdfusion_mm.visualization import fusion_panel
    seed = args.seeds[0]
    for design, learned, fixed in DESIGNS:
        models = {}
        for key, variant in (('fixed', fixed), ('learned', learned)):
            cfg, models[key] = load_run_model(
                run_dir(args, task, variant, seed), args.device)
        if all(m is not None for m in models.values()):
            break
    else:
        return None
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
    return design


def minutes(rows) -> str:
    return ' / '.join(f'{r["seconds"] / 60:.1f}' for r in rows) or 'n/a'


def downstream_lines(task: str, table: dict, args) -> list:
    """The downstream design's scores and paired difference, if run."""
    spec = TASKS[task]
    scores = {v: [task_score(task, table[task, f'downstream_{v}', s])
                  for s in args.seeds if (task, f'downstream_{v}', s) in table]
              for v in JOINT}
    if not any(scores.values()):
        return []
    difference = paired_difference(task, table, args.seeds,
                                   'downstream_learned', 'downstream_fixed')
    return ['', f'Downstream (`{spec["downstream"]}` trained on the fused '
            'training split of each joint run\'s F, same seed, scored on the '
            f'held-out split), {spec["score"]}: fixed '
            f'{mean_std(scores["fixed"])}, learned '
            f'{mean_std(scores["learned"])}. Paired difference learned - '
            f'fixed (downstream, {spec["score"]}): {difference}.']


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
    lines += downstream_lines(task, table, args)
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
    design = panel(task, args, jpg)
    if design:
        lines += ['', f'![{task} panel]({osp.relpath(jpg, out_dir)})', '',
                  f'Held-out pairs, seed {args.seeds[0]}, {design} design: '
                  'IR | visible | fixed-loss fusion | learned-loss fusion | '
                  'G\'s infrared weight w_ir (blue 0, red 1).']
    return lines + ['']


def reproduce_command(args, table: dict) -> str:
    budget = args.budget
    parts = ['python tools/analysis_tools/fusion_loss_study.py',
             f'--tasks {" ".join(args.tasks)}',
             f'--seeds {" ".join(map(str, args.seeds))}']
    for flag, key, _, _ in BUDGET_OPTIONS:
        values = [f'{t}={budget_text(budget[t][key])}' for t in args.tasks]
        parts.append(f'--{flag.replace("_", "-")} ' + ' '.join(values))
    parts.append(f'--fusion-dim {args.fusion_dim} --jobs {args.jobs}')
    parts.append(f'--generator-movement {args.generator_movement}')
    if args.fusion != 'refusion':
        parts.append(f'--fusion {args.fusion}')
    if args.centre_logits:
        parts.append('--centre-logits')
    if args.meta_batch_size:
        parts.append(f'--meta-batch-size {args.meta_batch_size}')
    if any(key[1].startswith('downstream_') for key in table):
        parts.append('--downstream')
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
    lines += ['## Reproduce', '', '```', reproduce_command(args, table), '```',
              '']
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines))
    print(f'report written to {args.out}')
