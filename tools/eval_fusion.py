"""Score a folder of fused images against their infrared and visible sources.

    python tools/eval_fusion.py FUSED_DIR IR_DIR VIS_DIR --out OUT_DIR \
        [--preset tdfusion|cddfuse|matlab] [--reduce mean|sum]
        [--ssim-window gaussian|uniform] [--metrics ...]

Images are matched by file name without extension (``a.png`` fused,
``a.jpg`` sources), so the fused images of any method can be scored. Every
image is brought to 8-bit luma (colour: OpenCV's Y of BGR; 16-bit: divided by
257) before scoring. Writes ``OUT_DIR/per_image.csv`` (one row per image),
``OUT_DIR/summary.csv`` and ``OUT_DIR/summary.md`` (mean and standard
deviation over the images), and prints the markdown table. The default
conventions are those of TDFusion's official evaluator (``--preset
tdfusion``); definitions of the metrics and presets: ``docs/fusion_metrics.md``.

Every image is checked (truncated, undecodable, unsupported dtype: an error
naming the file); float images (e.g. 32-bit TIFF) need ``--float-range``.
The three result files are written under temporary names and renamed
together at the end, so a failed run leaves none of them. Errors of the
inputs print one line and exit with status 1 (``--debug`` adds the
traceback).
"""
import argparse
import csv
import io
import os.path as osp
import sys
import time

import numpy as np
from mmengine.utils import ProgressBar

from tdfusion_mm.apis import (AtomicOutputs, UserError, match_folders,
                              read_luma8)
from tdfusion_mm.evaluation import (METRIC_NAMES, PRESETS, fusion_metrics,
                                    metric_conventions)
from tdfusion_mm.utils.cli import add_shared_args
from tdfusion_mm.utils.user_errors import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Fusion-quality metrics of a folder of fused images')
    parser.add_argument('fused_dir', help='folder of fused images')
    parser.add_argument('ir_dir', help='folder of infrared images')
    parser.add_argument('vis_dir', help='folder of visible images')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--preset', choices=sorted(PRESETS),
                        default='tdfusion',
                        help='conventions of a published evaluator '
                        '(default: tdfusion, the official TDFusion one)')
    parser.add_argument('--reduce', choices=['mean', 'sum'],
                        help='combine the two sources of VIF and SSIM by '
                        'their mean or sum (default: the preset\'s)')
    parser.add_argument('--ssim-window', choices=['gaussian', 'uniform'],
                        help='gaussian: 11x11, sigma 1.5 (Wang et al.); '
                        'uniform: 7x7 (scikit-image default) (default: the '
                        'preset\'s)')
    parser.add_argument('--metrics', nargs='+', choices=METRIC_NAMES,
                        default=list(METRIC_NAMES), help='metrics to compute')
    add_shared_args(parser, 'float_range', 'debug')
    return parser.parse_args(argv)


def match(fused_dir: str, ir_dir: str, vis_dir: str) -> list:
    """(name, fused, ir, vis paths) of every fused image; every fused image
    needs both sources and every source pair a fused image."""
    return match_folders([fused_dir, ir_dir, vis_dir])


def markdown_table(rows: list, header: list) -> str:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines) + '\n'


def main(args) -> None:
    conventions = metric_conventions(args.preset, reduce=args.reduce,
                                     ssim_window=args.ssim_window)
    pairs = match(args.fused_dir, args.ir_dir, args.vis_dir)
    results = []
    start = time.perf_counter()
    bar = ProgressBar(len(pairs))
    for name, fused_path, ir_path, vis_path in pairs:
        fused, ir, vis = (read_luma8(p, args.float_range)
                          for p in (fused_path, ir_path, vis_path))
        if not fused.shape == ir.shape == vis.shape:
            raise UserError(
                f'sizes differ for {name!r}: {fused_path} {fused.shape}, '
                f'{ir_path} {ir.shape}, {vis_path} {vis.shape}')
        results.append(fusion_metrics(fused, ir, vis, args.metrics,
                                      **conventions))
        bar.update()
    elapsed = time.perf_counter() - start

    per_image = io.StringIO()
    writer = csv.writer(per_image, lineterminator='\n')
    writer.writerow(['name'] + args.metrics)
    for (name, *_), res in zip(pairs, results):
        writer.writerow([name] + [f'{res[m]:.6f}' for m in args.metrics])
    values = np.array([[res[m] for m in args.metrics] for res in results])
    stats = dict(mean=values.mean(0), std=values.std(0))
    summary = io.StringIO()
    writer = csv.writer(summary, lineterminator='\n')
    writer.writerow(['statistic'] + args.metrics)
    for key, row in stats.items():
        writer.writerow([key] + [f'{v:.6f}' for v in row])
    table = markdown_table(
        [[key] + [f'{v:.4f}' for v in row] for key, row in stats.items()],
        [f'{len(results)} images'] + args.metrics)
    note = (f'\nConventions ({args.preset} preset): ' +
            ', '.join(f'{k} {v}' for k, v in conventions.items()) +
            '. Definitions: docs/fusion_metrics.md.\n')
    with AtomicOutputs() as outputs:  # all three files, or none
        outputs.add(osp.join(args.out, 'per_image.csv'),
                    per_image.getvalue().encode())
        outputs.add(osp.join(args.out, 'summary.csv'),
                    summary.getvalue().encode())
        outputs.add(osp.join(args.out, 'summary.md'),
                    (table + note).encode())
    print(f'\n{table}{note}{len(results)} image(s) scored in {elapsed:.2f} s;'
          f' results in {args.out}')


if __name__ == '__main__':
    cli_args = parse_args()
    sys.exit(run_tool(lambda: main(cli_args)))
