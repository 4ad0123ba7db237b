"""Check the datasets of a config in full before training.

    python tools/misc/check_dataset.py CONFIG [--splits train val test]
        [--data-root DIR] [--cfg-options key=value ...]

For every pair of each split's dataset: every listed file exists and
decodes (truncated JPEG/PNG files are found as the training loader finds
them), the infrared and visible images have the same size (unless the
pipeline's ``LoadIrVisFromFile`` resizes the infrared one), a label map has
the image's size and only values that are classes or the ignore index, and
boxes lie inside the image (and inside the size their annotation file
states). Every problem is printed with its file, and a hint when all the
problems of a split are of one kind (e.g. a split without annotation
files); the exit code is 1 if there is any. ``--data-root`` sets the
``data_root`` of every split's dataset (a top-level ``data_root`` in ``--cfg-options`` does not reach the
datasets: the config has already used it).
"""
import argparse
import copy
import os.path as osp
import re
import sys
from typing import Iterator, List, Optional, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.utils import ProgressBar

from tdfusion_mm.datasets.transforms.loading import box_problems
from tdfusion_mm.registry import DATASETS, TRANSFORMS
from tdfusion_mm.utils.cli import add_shared_args, load_config
from tdfusion_mm.utils.user_errors import USER_ERRORS, run_tool, user_message

# Data errors found while building an info or loading a file.
DATA_ERRORS = USER_ERRORS + (ValueError, KeyError)
# Our loaders by their scoped names: the config's default scope may be
# mmdet's or mmseg's (the downstream configs).
OUR_IMAGE_LOADER = 'tdfusion_mm.LoadIrVisFromFile'
OUR_LABEL_LOADER = 'tdfusion_mm.LoadSegAnnotations'


def parse_args():
    parser = argparse.ArgumentParser(
        description='Check every file of a config\'s datasets')
    parser.add_argument('config', help='config file')
    parser.add_argument('--splits', nargs='+', default=['train', 'val',
                                                        'test'],
                        choices=['train', 'val', 'test'],
                        help='which dataloaders\' datasets to check')
    parser.add_argument('--data-root',
                        help='data_root of every checked split\'s dataset')
    add_shared_args(parser, 'cfg_options', 'debug')
    return parser.parse_args()


def split_datasets(cfg: Config, splits: List[str]) -> List[Tuple[str, dict]]:
    """(names, dataset config) of the splits, a dataset shared by splits
    (test = val) once."""
    found = []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        dataset = loader['dataset'].to_dict()
        # Inside wrappers such as YOLOX's MultiImageMixDataset.
        while isinstance(dataset.get('dataset'), dict):
            dataset = dataset['dataset']
        for i, (names, other) in enumerate(found):
            if other == dataset:
                found[i] = (f'{names}+{split}', other)
                break
        else:
            found.append((split, dataset))
    return found


def image_loader(dataset_cfg: dict):
    """The pipeline's ``LoadIrVisFromFile`` (its colour type, resize and
    backend), or a default one (e.g. in a stock mmdet or mmseg pipeline)."""
    for step in dataset_cfg.get('pipeline', []):
        if step.get('type', '').split('.')[-1] == 'LoadIrVisFromFile':
            return TRANSFORMS.build(dict(step, type=OUR_IMAGE_LOADER))
    return TRANSFORMS.build(dict(type=OUR_IMAGE_LOADER))


def data_infos(dataset) -> Iterator[Tuple[str, object]]:
    """(id, data info or error) of every listed pair.

    Our datasets parse pair by pair, so that one bad pair does not hide the
    others; other datasets are fully initialised at once.
    """
    if hasattr(dataset, 'load_ids') and hasattr(dataset, 'parse_data_info'):
        for img_id in dataset.load_ids():
            try:
                yield img_id, dataset.parse_data_info(img_id)
            except DATA_ERRORS as err:
                yield img_id, err
    else:
        dataset.full_init()
        for i, info in enumerate(dataset.data_list):
            yield str(info.get('img_id', i)), info


def check_boxes(info: dict, height: int, width: int) -> List[str]:
    """Problems of the boxes of a detection data info (those that
    ``LoadDetAnnotations`` refuses or clips)."""
    problems = []
    where = info.get('xml_path', info['img_path'])
    stated = (info.get('height'), info.get('width'))
    if None not in stated and stated != (height, width):
        problems.append(f'{where}: the annotation states a {stated[0]}x'
                        f'{stated[1]} image but {info["img_path"]} is '
                        f'{height}x{width}')
    boxes = [inst['bbox'] for inst in info.get('instances', [])]
    for _, problem, clipped in box_problems(boxes, height, width):
        remedy = '' if clipped is None else \
            f' (training clips it to {[round(v, 2) for v in clipped]})'
        problems.append(f'{where}: {problem}{remedy}')
    return problems


def check_pair(info: dict, loader, label_loader) -> List[str]:
    """Problems of one pair: files, sizes, labels, boxes."""
    problems = []
    images = {}
    for key, flag, kind in (('img_path', loader.vis_color_type, 'visible'),
                            ('ir_path', 'unchanged', 'infrared')):
        try:
            images[key] = loader._read(info[key], flag, kind)
        except DATA_ERRORS as err:
            problems.append(user_message(err))
    if len(images) < 2:
        return problems
    vis_size = images['img_path'].shape[:2]
    ir_size = images['ir_path'].shape[:2]
    if ir_size != vis_size and not loader.resize_ir_to_vis:
        problems.append(f'{info["ir_path"]}: infrared image is {ir_size[0]}x'
                        f'{ir_size[1]} but the visible {info["img_path"]} is '
                        f'{vis_size[0]}x{vis_size[1]}')
    if info.get('seg_map_path'):
        try:
            results = label_loader(dict(copy.deepcopy(info), seg_fields=[]))
            label_size = results['gt_seg_map'].shape[:2]
            if label_size != vis_size:
                problems.append(
                    f'{info["seg_map_path"]}: label map is {label_size[0]}x'
                    f'{label_size[1]} but the visible image is '
                    f'{vis_size[0]}x{vis_size[1]}')
        except DATA_ERRORS as err:
            problems.append(user_message(err))
    if 'instances' in info:
        problems += check_boxes(info, *vis_size)
    return problems


def check_split(name: str, dataset_cfg: dict) -> int:
    """Check one split; print its problems. Returns how many there are."""
    dataset_cfg = dict(dataset_cfg, lazy_init=True, pipeline=[])
    loader = image_loader(dataset_cfg)
    try:
        dataset = DATASETS.build(dataset_cfg)
        entries = list(data_infos(dataset))
    except DATA_ERRORS as err:
        print(f'[{name}] cannot list the dataset: {user_message(err)}')
        return 1
    label_loader = TRANSFORMS.build(dict(
        type=OUR_LABEL_LOADER,
        num_classes=len(dataset.metainfo.get('classes', ())),
        ignore_index=getattr(dataset, 'ignore_index', 255)))
    problems = []
    bar = ProgressBar(len(entries), file=sys.stderr)
    for img_id, info in entries:
        if isinstance(info, Exception):
            problems.append(user_message(info))
        else:
            problems += check_pair(info, loader, label_loader)
        bar.update()
    sys.stderr.write('\n')
    root = dataset_cfg.get('data_root', '')
    for problem in problems:
        print(f'[{name}] {problem}')
    print(f'[{name}] {type(dataset).__name__} at {root}: {len(entries)} '
          f'pair(s) checked, {len(problems)} problem(s)')
    hint = one_kind_hint(name, problems)
    if hint:
        print(f'[{name}] hint: {hint}')
    return len(problems)


def one_kind_hint(split: str, problems: List[str]) -> Optional[str]:
    """What to do when every problem of a split is of one kind (the same
    message but for file names, ids and numbers): one cause, e.g. a split
    without annotations or a wrong folder, rather than many bad files."""
    kinds = {re.sub(r"'[^']*'|\S*[/\\]\S*|\d+", '_', p) for p in problems}
    if len(problems) < 2 or len(kinds) > 1:
        return None
    missing = re.match(r'The (.+) of id .* does not exist: (.+)$',
                       problems[0])
    if missing and missing.group(1) in ('annotation', 'label map'):
        others = [s for s in ('train', 'val', 'test')
                  if s not in split.split('+')]
        return (f'{len(problems)} pairs of the {split} split have no '
                f'{missing.group(1)} file (e.g. {missing.group(2)}): if the '
                'split has no annotations, check the others only '
                f'(--splits {" ".join(others)})')
    if missing:
        return (f'{len(problems)} pairs of the {split} split have no '
                f'{missing.group(1)} (e.g. {missing.group(2)}): check '
                'data_root, data_prefix and the suffixes')
    return (f'all {len(problems)} problems of the {split} split are of one '
            f'kind (e.g. {problems[0]}): one cause is likelier than '
            f'{len(problems)} bad files')


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    splits = split_datasets(cfg, args.splits)
    if not splits:
        print(f'error: {args.config} has no dataloader of {args.splits}',
              file=sys.stderr)
        return 1
    total = 0
    for name, dataset_cfg in splits:
        if args.data_root:
            dataset_cfg['data_root'] = args.data_root
        total += check_split(name, dataset_cfg)
    if total:
        print(f'{total} problem(s) found')
        return 1
    print('No problem found')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
