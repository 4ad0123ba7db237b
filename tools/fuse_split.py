"""Write a dataset's splits in its own layout, the visible images replaced.

    # fuse with a trained TDFusion model (its config gives the dataset)
    python tools/fuse_split.py CONFIG --checkpoint CKPT --out fused/m3fd
    # another method's fused images (one folder, files named by image id)
    python tools/fuse_split.py CONFIG --images OTHER_DIR --out other/m3fd
    # the infrared images in place of the visible ones
    python tools/fuse_split.py CONFIG --infrared --out ir/m3fd

OUT mirrors the config's ``data_root``: the visible-image folders of the
chosen splits (``--splits``, default the train and test dataloaders) hold the
new images under the visible images' own file names, and every other file or
folder (infrared images, annotations, labels, split files) is a symbolic
link to the original. A task network then trains and tests on OUT with an
unchanged config, e.g. ``TASK_DATA_ROOT=OUT`` for ``configs/downstream/``.

Fused images are saved in the visible images' format: PNG as is, JPEG at
quality 100 without chroma subsampling. ``--images`` links files of the same
format and re-encodes the others. CHECKPOINT is a TDFusion checkpoint
(``fusion_backbone.*`` keys), a converted or an official one, as for
``tools/fuse.py``.
"""
import argparse
import json
import os
import os.path as osp
import time

import sys

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.utils import ProgressBar

from tdfusion_mm.apis import (FusionInferencer, list_images, read_image,
                              write_image)
from tdfusion_mm.registry import DATASETS
from tdfusion_mm.utils import tune_malloc
from tdfusion_mm.utils.cli import add_shared_args, load_config
from tdfusion_mm.utils.user_errors import run_tool

JPEG_EXTS = ('.jpg', '.jpeg')
SPLITS = dict(train='train_dataloader', val='val_dataloader',
              test='test_dataloader')


def parse_args():
    parser = argparse.ArgumentParser(
        description="Write a dataset's splits in its own layout with fused "
        '(or other) images in place of the visible ones')
    parser.add_argument('config', help='config whose dataloaders give the '
                        'dataset (and model.fusion_backbone for --checkpoint)')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--checkpoint', help='fuse with this checkpoint')
    source.add_argument('--images', help='folder of images named by id')
    source.add_argument('--infrared', action='store_true',
                        help='use the infrared images')
    parser.add_argument('--out', required=True, help='output dataset root')
    parser.add_argument('--splits', nargs='+', choices=sorted(SPLITS),
                        default=['train', 'test'],
                        help='dataloaders whose images to write')
    add_shared_args(parser, 'device', 'cfg_options')
    return parser.parse_args()


def split_pairs(cfg: Config, splits) -> tuple:
    """The dataset root and the (visible, infrared) paths of the splits.

    Returns:
        tuple: ``data_root`` (absolute) and a list of (vis, ir) absolute
        paths, each pair once, in the order of the splits.
    """
    roots, pairs, seen = set(), [], set()
    for split in splits:
        loader = cfg.get(SPLITS[split])
        if not loader:
            raise KeyError(f'{cfg.filename} has no {SPLITS[split]}')
        dataset_cfg = dict(loader['dataset'])
        if 'data_root' not in dataset_cfg:
            raise KeyError(f'{SPLITS[split]}.dataset of {cfg.filename} has '
                           'no data_root (a wrapped dataset?)')
        # Every id of the split, also those the training filters drop.
        dataset_cfg.update(pipeline=[], lazy_init=False, filter_cfg=None)
        dataset = DATASETS.build(dataset_cfg)
        roots.add(osp.abspath(dataset.data_root))
        for idx in range(len(dataset)):
            info = dataset.get_data_info(idx)
            if 'ir_path' not in info:
                raise KeyError(f'{type(dataset).__name__} gives no ir_path: '
                               'not a paired infrared-visible dataset')
            pair = (osp.abspath(info['img_path']),
                    osp.abspath(info['ir_path']))
            if pair not in seen:
                seen.add(pair)
                pairs.append(pair)
    if len(roots) != 1:
        raise ValueError(f'the splits {splits} have different data roots '
                         f'{sorted(roots)}: write them one at a time')
    root = roots.pop()
    for vis, _ in pairs:
        if osp.commonpath([root, vis]) != root:
            raise ValueError(f'visible image {vis} is outside data_root '
                             f'{root}: cannot mirror the layout')
    return root, pairs


def mirror_layout(root: str, out: str, image_dirs: set) -> None:
    """Link every entry of ``root`` into ``out``, except the folders that
    hold (or lead to) ``image_dirs``, which become real folders."""
    keep = set()
    for folder in image_dirs:
        while folder != root:
            keep.add(folder)
            folder = osp.dirname(folder)
    if root in image_dirs:
        raise ValueError(f'the visible images lie directly in data_root '
                         f'{root}: no folder to replace')

    def walk(src, dst):
        os.makedirs(dst, exist_ok=True)
        for name in sorted(os.listdir(src)):
            source, target = osp.join(src, name), osp.join(dst, name)
            if source in image_dirs:
                os.makedirs(target, exist_ok=True)
            elif source in keep:
                walk(source, target)
            elif not osp.lexists(target):
                os.symlink(source, target)
    walk(root, out)


def write(path: str, img: np.ndarray) -> None:
    """Save in the format of ``path``'s suffix; JPEG at full quality."""
    params = []
    if path.lower().endswith(JPEG_EXTS):
        params = [cv2.IMWRITE_JPEG_QUALITY, 100,
                  cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                  cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    write_image(path, img, params)


def main():
    tune_malloc()
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    root, pairs = split_pairs(cfg, args.splits)
    out = osp.abspath(args.out)
    if out == root or osp.commonpath([root, out]) == root:
        raise ValueError(f'--out {out} lies inside data_root {root}')

    others = None
    if args.images:
        others = list_images(args.images)
        missing = [osp.splitext(osp.basename(v))[0] for v, _ in pairs
                   if osp.splitext(osp.basename(v))[0] not in others]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} image id(s) of the splits have no image in '
                f'{args.images}: {missing[:10]}')
    inferencer = None
    if args.checkpoint:
        inferencer = FusionInferencer.fusion_only(
            cfg, args.checkpoint, device=args.device, check_memory=False)

    mirror_layout(root, out, {osp.dirname(v) for v, _ in pairs})
    start = time.perf_counter()
    bar = ProgressBar(len(pairs))
    for vis_path, ir_path in pairs:
        target = osp.join(out, osp.relpath(vis_path, root))
        if osp.lexists(target):
            os.remove(target)
        if args.infrared:
            os.symlink(ir_path, target)
        elif others is not None:
            source = others[osp.splitext(osp.basename(vis_path))[0]]
            if osp.splitext(source)[1].lower() == \
                    osp.splitext(target)[1].lower():
                os.symlink(osp.abspath(source), target)
            else:
                write(target, read_image(source))
        else:
            item = inferencer.read(dict(name=target, ir=ir_path,
                                        vis=vis_path))
            write(target, inferencer.fuse(item['ir_unit'], item['vis_unit']))
        bar.update()
    origin = ('infrared' if args.infrared else args.images
              if args.images else args.checkpoint)
    with open(osp.join(out, 'fuse_split.json'), 'w') as f:
        json.dump(dict(config=osp.abspath(args.config), source=origin,
                       data_root=root, splits=args.splits,
                       images=len(pairs)), f, indent=2)
    print(f'\n{len(pairs)} image(s) of {args.splits} from {origin} written '
          f'in the layout of {root} to {out} in '
          f'{time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
    sys.exit(run_tool(main))
