"""Make a train/test split of M3FD: by contiguous blocks of ids (default)
or seeded at random.

Where the split comes from: M3FD (Liu et al., "Target-aware Dual Adversarial
Learning and a Multi-scenario Multi-Modality Benchmark to Fuse Infrared and
Visible for Object Detection", CVPR 2022) is released as 4,200 pairs
without an official train/test split, and the TDFusion paper does not
publish the split it used.

Why blocks: M3FD's ids number frames taken from driving videos in order, so
neighbouring ids are often near-duplicates of one scene. A random split puts
such frames on both sides, and the test then measures memory of the
training frames. ``--mode blocks`` cuts the sorted ids into blocks of
``--block-length`` consecutive ids and gives whole blocks, chosen with
``random.Random(seed)``, to the test split (``round((1 - ratio) * blocks)``
of them); near-duplicates can then only straddle the split where a train
block meets a test block, and ``--gap`` drops that many train ids next to
every test block, so that no test id has a train id closer than ``gap + 1``
ids. Defaults: blocks of 100 ids (42 blocks of M3FD, 8 of them for testing:
at most 16 train-test boundaries) and a gap of 10 ids (at most 160 of the
3,400 train ids dropped).

``--mode random`` is the earlier split: the sorted ids shuffled with
``random.Random(seed)``, the first ``round(ratio * n)`` for training.

Both write ``train.txt`` and ``test.txt`` (sorted, one id per line); the
same arguments over the same set of ids always give the same files. Results
on one split are not directly comparable with numbers measured on another.

Example::

    python tools/dataset_converters/make_m3fd_split.py \\
        --data-root data/M3FD --out-dir data/M3FD/splits --seed 0 --ratio 0.8
"""
import argparse
import os
import os.path as osp
import random
import re

SPLIT_MODES = ('blocks', 'random')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Make a train/test split of M3FD')
    parser.add_argument(
        '--data-root', required=True, help='M3FD root holding Annotation/')
    parser.add_argument(
        '--out-dir', required=True, help='where to write train.txt/test.txt')
    parser.add_argument(
        '--mode', choices=SPLIT_MODES, default='blocks',
        help='blocks of consecutive ids (default, no near-duplicate frames '
        'across the split) or a random split of single ids')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--ratio', type=float, default=0.8, help='fraction of train ids')
    parser.add_argument(
        '--block-length', type=int, default=100,
        help='consecutive ids per block (blocks mode)')
    parser.add_argument(
        '--gap', type=int, default=10,
        help='train ids dropped next to each test block (blocks mode)')
    parser.add_argument(
        '--ann-dir',
        default='Annotation',
        help='annotation folder relative to --data-root')
    return parser.parse_args()


def natural_key(image_id: str):
    """Sort key ordering '9' before '10' (M3FD's ids are zero-padded, so
    this is their plain order)."""
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', image_id)]


def check_ratio(ratio: float) -> None:
    if not 0 < ratio < 1:
        raise ValueError(f'ratio must be in (0, 1), got {ratio}')


def make_split(ids, seed=0, ratio=0.8):
    """Split ids into (train, test) with a seeded shuffle of single ids.

    Args:
        ids (Iterable[str]): The image ids.
        seed (int): Seed of the shuffle. Defaults to 0.
        ratio (float): Fraction of ids for training, in (0, 1). Defaults to
            0.8.

    Returns:
        tuple[list[str], list[str]]: The sorted train ids and test ids.
    """
    check_ratio(ratio)
    ids = sorted(ids)
    random.Random(seed).shuffle(ids)
    num_train = round(ratio * len(ids))
    return sorted(ids[:num_train]), sorted(ids[num_train:])


def make_block_split(ids, seed=0, ratio=0.8, block_length=100, gap=10):
    """Split ids into (train, test) by blocks of consecutive ids.

    Args:
        ids (Iterable[str]): The image ids (frame numbers).
        seed (int): Seed of the choice of test blocks. Defaults to 0.
        ratio (float): Fraction of blocks for training, in (0, 1). Defaults
            to 0.8.
        block_length (int): Consecutive ids per block (the last block may be
            shorter). Defaults to 100.
        gap (int): Train ids dropped on each side of every test block.
            Defaults to 10.

    Returns:
        tuple[list[str], list[str]]: The sorted train ids and test ids.
    """
    check_ratio(ratio)
    if block_length < 1 or gap < 0:
        raise ValueError('block_length must be positive and gap '
                         f'non-negative, got {block_length} and {gap}')
    ids = sorted(ids, key=natural_key)
    blocks = [ids[i:i + block_length]
              for i in range(0, len(ids), block_length)]
    num_test = round((1 - ratio) * len(blocks))
    if not 0 < num_test < len(blocks):
        raise ValueError(
            f'{len(ids)} ids make {len(blocks)} block(s) of {block_length}: '
            f'too few for a {ratio}:{1 - ratio:.2g} split; use a smaller '
            '--block-length')
    test_blocks = set(random.Random(seed).sample(range(len(blocks)),
                                                 num_test))
    train, test = [], []
    for k, block in enumerate(blocks):
        if k in test_blocks:
            test += block
            continue
        start = gap if k - 1 in test_blocks else 0
        stop = len(block) - gap if k + 1 in test_blocks else len(block)
        train += block[start:stop]
    if not train:
        raise ValueError(f'gap {gap} leaves no train id: use a smaller gap '
                         'or longer blocks')
    return sorted(train, key=natural_key), sorted(test, key=natural_key)


def main():
    args = parse_args()
    ann_dir = osp.join(args.data_root, args.ann_dir)
    if not osp.isdir(ann_dir):
        raise FileNotFoundError(f'Annotation folder not found: {ann_dir}')
    ids = [f[:-4] for f in os.listdir(ann_dir) if f.endswith('.xml')]
    if not ids:
        raise FileNotFoundError(f'No .xml file in {ann_dir}')
    if args.mode == 'blocks':
        train, test = make_block_split(ids, args.seed, args.ratio,
                                       args.block_length, args.gap)
    else:
        train, test = make_split(ids, args.seed, args.ratio)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, split in (('train', train), ('test', test)):
        path = osp.join(args.out_dir, f'{name}.txt')
        with open(path, 'w') as f:
            f.write(''.join(f'{i}\n' for i in split))
        print(f'{path}: {len(split)} ids')
    dropped = len(ids) - len(train) - len(test)
    if dropped:
        print(f'{dropped} train ids next to test blocks left out (--gap '
              f'{args.gap})')


if __name__ == '__main__':
    main()
