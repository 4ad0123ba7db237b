"""Compare fusion methods the way the field does: retrain one task network on
each method's images and test it, over several seeds.

    python tools/analysis_tools/compare_fusions.py \\
        configs/downstream/yolox_tiny_m3fd.py \\
        --roots tdfusion=work_dirs/fused/m3fd fixed=work_dirs/fixed/m3fd \\
                visible=data/M3FD infrared=work_dirs/ir/m3fd \\
        --seeds 0 1 2 --work-dir work_dirs/compare_m3fd

Every ``NAME=ROOT`` is a dataset root in the dataset's layout whose visible
folders hold one method's images (``tools/fuse_split.py`` makes them). For
each root and seed the config is read with ``TASK_DATA_ROOT=ROOT`` (the key
of the ``configs/downstream/`` configs), trained with mmengine's
``Runner.from_cfg(cfg).train()`` (what mmdet's and mmseg's
``tools/train.py`` do) and tested; the same seeds serve every root. The
fusion metrics of each root's test images are computed against the
infrared images and the original visible images (``--source-root``, by
default the config's own ``data_root``).

Prints one markdown table (task metric mean and standard deviation over the
seeds, then the mean fusion metrics of the test images) and writes it with
the per-seed values to ``WORK_DIR/comparison.md`` and ``.csv``.
"""
import argparse
import csv
import os
import os.path as osp

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import DATASETS, DefaultScope
from mmengine.runner import Runner

from tdfusion_mm.apis import read_luma8
from tdfusion_mm.evaluation import PRESETS, fusion_metrics
from tdfusion_mm.utils import tune_malloc

ROOT_VARIABLE = 'TASK_DATA_ROOT'
FUSION_METRICS = ('EN', 'SF', 'SCD', 'VIF', 'Qabf', 'SSIM')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Train and test one task network on the images of '
        'several fusion methods')
    parser.add_argument('config', help='a configs/downstream/ config')
    parser.add_argument('--roots', nargs='+', required=True,
                        metavar='NAME=ROOT',
                        help='dataset roots with each method\'s images')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--source-root',
                        help='the original dataset (visible images) for the '
                        'fusion metrics; default: the config\'s data_root')
    parser.add_argument('--metric', help='task metric to report (a key of '
                        'the test results); default: the first one')
    parser.add_argument('--preset', choices=sorted(PRESETS),
                        default='tdfusion',
                        help='conventions of the fusion metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    return parser.parse_args()


def parse_roots(items) -> dict:
    roots = {}
    for item in items:
        name, sep, root = item.partition('=')
        if not sep or not name or not root:
            raise ValueError(f'--roots: expected NAME=ROOT, got {item!r}')
        if name in roots:
            raise ValueError(f'--roots: name {name!r} given twice')
        if not osp.isdir(root):
            raise FileNotFoundError(f'--roots {name}: not a folder: {root}')
        roots[name] = root
    return roots


def load_config(path: str, root: str, cfg_options) -> Config:
    """The config read with ``TASK_DATA_ROOT=root`` (``root`` None: as is)."""
    saved = os.environ.get(ROOT_VARIABLE)
    try:
        if root is None:
            os.environ.pop(ROOT_VARIABLE, None)
        else:
            os.environ[ROOT_VARIABLE] = root
        cfg = Config.fromfile(path)
    finally:
        if saved is None:
            os.environ.pop(ROOT_VARIABLE, None)
        else:
            os.environ[ROOT_VARIABLE] = saved
    if root is not None and cfg.get('data_root') != root:
        raise KeyError(f'{path} does not read its data_root from '
                       f'{ROOT_VARIABLE} (data_root = '
                       f"'{{{{${ROOT_VARIABLE}:default}}}}', as the "
                       'configs/downstream/ configs)')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def train_and_test(cfg: Config, work_dir: str, seed: int,
                   name: str) -> dict:
    """Train the config's task network with a seed; its test metrics."""
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    cfg.experiment_name = f'{name}_seed{seed}'
    runner = Runner.from_cfg(cfg)
    runner.train()
    return dict(runner.test())


def split_test_pairs(cfg: Config) -> list:
    """(fused/visible image, infrared image) paths of the test split."""
    dataset_cfg = dict(cfg.test_dataloader.dataset, pipeline=[])
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        dataset = DATASETS.build(dataset_cfg)
    return [(info['img_path'], info['ir_path'])
            for info in (dataset.get_data_info(i)
                         for i in range(len(dataset)))]


def folder_fusion_metrics(cfg: Config, root: str, source_root: str,
                          preset: str) -> dict:
    """Mean fusion metrics of a root's test images against the infrared and
    the original visible images."""
    results = []
    for img_path, ir_path in split_test_pairs(cfg):
        rel = osp.relpath(osp.abspath(img_path), osp.abspath(root))
        vis_path = osp.join(source_root, rel)
        fused, ir, vis = (read_luma8(p) for p in (img_path, ir_path,
                                                  vis_path))
        if not fused.shape == ir.shape == vis.shape:
            raise ValueError(f'sizes differ: {img_path} {fused.shape}, '
                             f'{ir_path} {ir.shape}, {vis_path} {vis.shape}')
        results.append(fusion_metrics(fused, ir, vis, FUSION_METRICS,
                                      preset=preset))
    return {k: float(np.mean([r[k] for r in results]))
            for k in FUSION_METRICS}


def markdown(rows: list, header: list) -> str:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    return '\n'.join(lines + ['| ' + ' | '.join(r) + ' |'
                              for r in rows]) + '\n'


def main():
    tune_malloc()
    args = parse_args()
    roots = parse_roots(args.roots)
    source_root = args.source_root or load_config(
        args.config, None, args.cfg_options).get('data_root')
    if not source_root or not osp.isdir(source_root):
        raise FileNotFoundError(f'source root (original visible images) '
                                f'not found: {source_root!r}; give '
                                '--source-root')
    task, fusion = {}, {}
    metric = args.metric
    for name, root in roots.items():
        task[name] = []
        for seed in args.seeds:
            cfg = load_config(args.config, root, args.cfg_options)
            results = train_and_test(
                cfg, osp.join(args.work_dir, name, f'seed{seed}'), seed, name)
            metric = metric or next(iter(results))
            if metric not in results:
                raise KeyError(f'test results have no {metric!r}: '
                               f'{sorted(results)}')
            task[name].append(float(results[metric]))
        fusion[name] = folder_fusion_metrics(
            load_config(args.config, root, args.cfg_options), root,
            source_root, args.preset)

    seeds = ' '.join(map(str, args.seeds))
    header = ['images', f'{metric} (seeds {seeds})'] + list(FUSION_METRICS)
    rows = []
    for name in roots:
        values = np.array(task[name])
        spread = values.std(ddof=1) if len(values) > 1 else 0.0
        rows.append([name, f'{values.mean():.4f} ± {spread:.4f}'] +
                    [f'{fusion[name][k]:.4f}' for k in FUSION_METRICS])
    table = markdown(rows, header)
    note = (f'\nTask metric: mean ± standard deviation over {len(args.seeds)}'
            f' seed(s) of {osp.basename(args.config)}; fusion metrics: mean'
            f' over the test images ({args.preset} conventions) against the '
            f'infrared and the visible images of {source_root}.\n')
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'comparison.md'), 'w') as f:
        f.write(table + note)
    with open(osp.join(args.work_dir, 'comparison.csv'), 'w',
              newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['images', 'root'] +
                        [f'{metric} seed {s}' for s in args.seeds] +
                        list(FUSION_METRICS))
        for name, root in roots.items():
            writer.writerow([name, root] + [f'{v:.6f}' for v in task[name]] +
                            [f'{fusion[name][k]:.6f}'
                             for k in FUSION_METRICS])
    print(f'\n{table}{note}Written to {args.work_dir}/comparison.md and .csv')


if __name__ == '__main__':
    main()
