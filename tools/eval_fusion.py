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
"""
import argparse
import csv
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from tdfusion_mm.evaluation import (METRIC_NAMES, PRESETS,  # noqa: E402
                                    fusion_metrics, metric_conventions,
                                    to_uint8)
from tdfusion_mm.utils import luma_array  # noqa: E402

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def parse_args():
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
    return parser.parse_args()


def list_images(folder: str) -> dict:
    """Map file name without extension -> path; error on duplicates."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'not a folder: {folder}')
    images = {}
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith(IMG_EXTS):
            continue
        stem = osp.splitext(name)[0]
        if stem in images:
            raise ValueError(f'{folder}: two images named {stem!r}: '
                             f'{osp.basename(images[stem])} and {name}')
        images[stem] = osp.join(folder, name)
    if not images:
        raise FileNotFoundError(f'no images ({", ".join(IMG_EXTS)}) in '
                                f'{folder}')
    return images


def match(fused_dir: str, ir_dir: str, vis_dir: str) -> list:
    """(name, fused, ir, vis paths) of every fused image; every fused image
    needs both sources and every source pair a fused image."""
    fused, irs, viss = (list_images(d) for d in (fused_dir, ir_dir, vis_dir))
    problems = []
    for folder, images in ((ir_dir, irs), (vis_dir, viss)):
        missing = sorted(set(fused) - set(images))
        if missing:
            problems.append(f'{len(missing)} fused image(s) have no partner '
                            f'in {folder}: {missing[:10]}')
    unfused = sorted((set(irs) & set(viss)) - set(fused))
    if unfused:
        problems.append(f'{len(unfused)} source pair(s) have no fused image '
                        f'in {fused_dir}: {unfused[:10]}')
    if problems:
        raise FileNotFoundError('images do not match by name:\n  ' +
                                '\n  '.join(problems))
    return [(name, fused[name], irs[name], viss[name])
            for name in sorted(fused)]


def read_luma8(path: str) -> np.ndarray:
    """8-bit luma of an image file."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise OSError(f'cannot read image {path}')
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    return to_uint8(luma_array(img))


def markdown_table(rows: list, header: list) -> str:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines) + '\n'


def main():
    args = parse_args()
    conventions = metric_conventions(args.preset, reduce=args.reduce,
                                     ssim_window=args.ssim_window)
    pairs = match(args.fused_dir, args.ir_dir, args.vis_dir)
    os.makedirs(args.out, exist_ok=True)
    results = []
    start = time.perf_counter()
    bar = ProgressBar(len(pairs))
    for name, fused_path, ir_path, vis_path in pairs:
        fused, ir, vis = (read_luma8(p)
                          for p in (fused_path, ir_path, vis_path))
        if not fused.shape == ir.shape == vis.shape:
            raise ValueError(
                f'sizes differ for {name!r}: {fused_path} {fused.shape}, '
                f'{ir_path} {ir.shape}, {vis_path} {vis.shape}')
        results.append(fusion_metrics(fused, ir, vis, args.metrics,
                                      **conventions))
        bar.update()
    elapsed = time.perf_counter() - start

    with open(osp.join(args.out, 'per_image.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['name'] + args.metrics)
        for (name, *_), res in zip(pairs, results):
            writer.writerow([name] + [f'{res[m]:.6f}' for m in args.metrics])
    values = np.array([[res[m] for m in args.metrics] for res in results])
    stats = dict(mean=values.mean(0), std=values.std(0))
    with open(osp.join(args.out, 'summary.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['statistic'] + args.metrics)
        for key, row in stats.items():
            writer.writerow([key] + [f'{v:.6f}' for v in row])
    table = markdown_table(
        [[key] + [f'{v:.4f}' for v in row] for key, row in stats.items()],
        [f'{len(results)} images'] + args.metrics)
    note = (f'\nConventions ({args.preset} preset): ' +
            ', '.join(f'{k} {v}' for k, v in conventions.items()) +
            '. Definitions: docs/fusion_metrics.md.\n')
    with open(osp.join(args.out, 'summary.md'), 'w') as f:
        f.write(table + note)
    print(f'\n{table}{note}{len(results)} image(s) scored in {elapsed:.2f} s;'
          f' results in {args.out}')


if __name__ == '__main__':
    main()
