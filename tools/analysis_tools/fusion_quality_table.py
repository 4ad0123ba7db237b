"""Fusion-quality table of trained models and rule fusions on image sets.

    python tools/analysis_tools/fusion_quality_table.py \\
        --models refusion_msrs_fixed refusion_msrs_learned \\
                 gdf_msrs_fixed gdf_msrs_learned gdf_msrs_fixed_16e \\
        --rules max mean \\
        --set "MSRS test" MSRS/test/ir MSRS/test/vi \\
        --set RoadScene RoadScene/cropinfrared RoadScene/crop_LR_visible \\
        --out work_dirs/fusion_table

Each model (a name of the model index, or ``CONFIG:CHECKPOINT``) and rule
(``max`` or ``mean`` of the infrared image and the visible luma, coloured
like the models' fusions) fuses every pair of each set into
``OUT/<set>/<method>/``; the fusions are scored with the metrics of
``tools/eval_fusion.py`` (default preset). Prints, and writes to
``OUT/table.md``, one markdown table per set (mean over its pairs) with
each model's fusion time per pair (F and colour restoration, without
reading and writing).
"""
import argparse
import os.path as osp
import re
import sys

import cv2
import numpy as np

from tdfusion_mm.apis import (FusionInferencer, fuse_folder, list_pairs,
                              match_folders, read_image, read_pair,
                              to_uint8_image, write_bytes, write_image)
from tdfusion_mm.evaluation import (METRIC_NAMES, fusion_metrics,
                                    metric_conventions)
from tdfusion_mm.utils import luma_array, restore_colour_array
from tdfusion_mm.utils.user_errors import UserError, run_tool
from tdfusion_mm.visualization import fusion_panel

RULES = dict(max=np.maximum, mean=lambda a, b: (a + b) / 2)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='*', default=[],
                        help='model index names or CONFIG:CHECKPOINT')
    parser.add_argument('--rules', nargs='*', default=[],
                        choices=sorted(RULES))
    parser.add_argument('--set', nargs=3, action='append', required=True,
                        metavar=('NAME', 'IR_DIR', 'VIS_DIR'),
                        help='an image set (repeatable)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--panels', type=int, default=0, metavar='N',
                        help='also save IR | visible | every method panels '
                        'of the first N pairs of each set')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def slug(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', name)


def build_inferencer(model: str, device: str) -> FusionInferencer:
    if ':' in model and not osp.isfile(model):
        config, checkpoint = model.rsplit(':', 1)
        return FusionInferencer.fusion_only(config, checkpoint,
                                            device=device)
    return FusionInferencer(model, device=device)


def fuse_by_rule(rule: str, pairs: list, out: str) -> None:
    """The rule's fusion of the infrared image and the visible luma,
    coloured as the models' fusions are."""
    for pair in pairs:
        item = read_pair(pair['ir'], pair['vis'])
        fused = RULES[rule](item['ir_unit'], luma_array(item['vis_unit']))
        write_image(osp.join(out, pair['name'] + '.png'),
                    restore_colour_array(fused, item['vis_unit']))


def score(fused_dir: str, ir_dir: str, vis_dir: str) -> dict:
    """Mean of every metric over the fused images of a folder."""
    conventions = metric_conventions('tdfusion')
    values = []
    for name, *paths in match_folders([fused_dir, ir_dir, vis_dir]):
        fused, ir, vis = (to_uint8_image(luma_array(read_image(p)), None, p)
                          for p in paths)
        values.append(fusion_metrics(fused, ir, vis, list(METRIC_NAMES),
                                     **conventions))
    if not values:
        raise UserError(f'no fused images in {fused_dir}')
    return {m: float(np.mean([v[m] for v in values])) for m in METRIC_NAMES}


def save_panels(pairs: list, methods: list, set_dir: str, count: int) -> None:
    """IR | visible | each method's fusion, for the first ``count`` pairs
    (``set_dir/panels/<name>.jpg``)."""
    for pair in pairs[:count]:
        item = read_pair(pair['ir'], pair['vis'])
        fused = {m: read_image(osp.join(set_dir, slug(m),
                                        pair['name'] + '.png'))
                 for m in methods}
        panel = fusion_panel(item['ir_unit'], item['vis_unit'], fused)
        write_image(osp.join(set_dir, 'panels', pair['name'] + '.jpg'),
                    cv2.cvtColor(panel, cv2.COLOR_RGB2BGR),
                    (cv2.IMWRITE_JPEG_QUALITY, 85))


def markdown(set_name: str, count: int, rows: dict, seconds: dict) -> str:
    header = ['method'] + list(METRIC_NAMES) + ['s per pair']
    lines = [f'**{set_name}** ({count} pairs)', '',
             '| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    for method, res in rows.items():
        cells = [method] + [f'{res[m]:.3f}' for m in METRIC_NAMES]
        cells.append(f'{seconds[method]:.3f}' if method in seconds else '-')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def main(args) -> None:
    inferencers = {m: build_inferencer(m, args.device) for m in args.models}
    tables = []
    for set_name, ir_dir, vis_dir in args.set:
        pairs = list_pairs(dict(ir=ir_dir, vis=vis_dir))
        rows, seconds = {}, {}
        for method in list(inferencers) + list(args.rules):
            out = osp.join(args.out, slug(set_name), slug(method))
            if method in inferencers:
                stats = fuse_folder(inferencers[method], pairs, out,
                                    progress=False)
                seconds[method] = stats['fusion_seconds'] / len(pairs)
            else:
                fuse_by_rule(method, pairs, out)
            rows[method] = score(out, ir_dir, vis_dir)
            print(f'{set_name} / {method}: ' + ', '.join(
                f'{m} {v:.3f}' for m, v in rows[method].items()), flush=True)
        tables.append(markdown(set_name, len(pairs), rows, seconds))
        if args.panels:
            save_panels(pairs, list(rows), osp.join(args.out, slug(set_name)),
                        args.panels)
    text = '\n'.join(tables)
    write_bytes(osp.join(args.out, 'table.md'), text.encode())
    print('\n' + text)


if __name__ == '__main__':
    cli_args = parse_args()
    sys.exit(run_tool(lambda: main(cli_args)))
