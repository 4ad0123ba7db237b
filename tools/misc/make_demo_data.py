"""Write the synthetic infrared-visible demo dataset (M3FD and MSRS layouts).

Example::

    python tools/misc/make_demo_data.py --out data/demo

Reruns with the same parameters reuse the existing files.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from tdfusion_mm.datasets.demo_scenes import generate_demo_dataset  # noqa


def parse_args():
    parser = argparse.ArgumentParser(
        description='Write the synthetic demo dataset')
    parser.add_argument('--out', default='data/demo', help='output folder')
    parser.add_argument('--num-train', type=int, default=24)
    parser.add_argument('--num-test', type=int, default=8)
    parser.add_argument('--height', type=int, default=96)
    parser.add_argument('--width', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    start = time.perf_counter()
    result = generate_demo_dataset(
        args.out,
        num_train=args.num_train,
        num_test=args.num_test,
        height=args.height,
        width=args.width,
        seed=args.seed)
    action = 'wrote' if result['generated'] else 'reused'
    print(f'{action} {result["num_train"]} train + {result["num_test"]} '
          f'test scenes of {args.height}x{args.width} in '
          f'{time.perf_counter() - start:.2f} s')
    print(f'M3FD layout: {result["m3fd"]["root"]} (Ir, Vis, Annotation, '
          'splits/train.txt, splits/test.txt)')
    print(f'MSRS layout: {result["msrs"]["root"]} '
          '({train,test}/{ir,vi,Label})')
    boxes = ', '.join(f'{k} {v}' for k, v in result['num_boxes'].items())
    print(f'boxes: {boxes}')


if __name__ == '__main__':
    main()
