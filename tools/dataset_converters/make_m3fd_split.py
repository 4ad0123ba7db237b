"""Make a seeded train/test split of M3FD.

Where the split comes from: M3FD (Liu et al., "Target-aware Dual Adversarial
Learning and a Multi-scenario Multi-Modality Benchmark to Fuse Infrared and
Visible for Object Detection", CVPR 2022) is released as 4,200 pairs
without an official train/test split, and the TDFusion paper does not
publish the split it used. This tool makes a reproducible one: it takes the
ids of all ``Annotation/<id>.xml`` files, sorts them, shuffles them with
Python's ``random.Random(seed)`` and puts the first ``round(ratio * n)`` in
``train.txt`` and the rest in ``test.txt`` (each sorted, one id per line).
The same ``--seed`` and ``--ratio`` over the same set of ids always give the
same files; results on such a split are not directly comparable with numbers
measured on another split.

Example::

    python tools/dataset_converters/make_m3fd_split.py \\
        --data-root data/M3FD --out-dir data/M3FD/splits --seed 0 --ratio 0.8
"""
import argparse
import os
import os.path as osp
import random


def parse_args():
    parser = argparse.ArgumentParser(
        description='Make a seeded train/test split of M3FD')
    parser.add_argument(
        '--data-root', required=True, help='M3FD root holding Annotation/')
    parser.add_argument(
        '--out-dir', required=True, help='where to write train.txt/test.txt')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--ratio', type=float, default=0.8, help='fraction of train ids')
    parser.add_argument(
        '--ann-dir',
        default='Annotation',
        help='annotation folder relative to --data-root')
    return parser.parse_args()


def make_split(ids, seed=0, ratio=0.8):
    """Split ids into (train, test) with a seeded shuffle.

    Args:
        ids (Iterable[str]): The image ids.
        seed (int): Seed of the shuffle. Defaults to 0.
        ratio (float): Fraction of ids for training, in (0, 1). Defaults to
            0.8.

    Returns:
        tuple[list[str], list[str]]: The sorted train ids and test ids.
    """
    if not 0 < ratio < 1:
        raise ValueError(f'ratio must be in (0, 1), got {ratio}')
    ids = sorted(ids)
    random.Random(seed).shuffle(ids)
    num_train = round(ratio * len(ids))
    return sorted(ids[:num_train]), sorted(ids[num_train:])


def main():
    args = parse_args()
    ann_dir = osp.join(args.data_root, args.ann_dir)
    if not osp.isdir(ann_dir):
        raise FileNotFoundError(f'Annotation folder not found: {ann_dir}')
    ids = [f[:-4] for f in os.listdir(ann_dir) if f.endswith('.xml')]
    if not ids:
        raise FileNotFoundError(f'No .xml file in {ann_dir}')
    train, test = make_split(ids, args.seed, args.ratio)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, split in (('train', train), ('test', test)):
        path = osp.join(args.out_dir, f'{name}.txt')
        with open(path, 'w') as f:
            f.write(''.join(f'{i}\n' for i in split))
        print(f'{path}: {len(split)} ids')


if __name__ == '__main__':
    main()
