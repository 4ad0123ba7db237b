"""Write the synthetic infrared-visible demo dataset (M3FD and MSRS layouts).

Example::

    python tools/misc/make_demo_data.py --out data/demo

The defaults (``DEMO_DATA``) make the data of the demo configs
(``configs/tdfusion_yolo_demo.py``: People and Car; boxes with a side under
8 pixels are marked difficult, which VOC metrics ignore). Reruns with the
same parameters reuse the existing files.
"""
import argparse
import time

from tdfusion_mm.testing import (DEMO_DATA, M3FD_CLASSES,
                                 generate_demo_dataset)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Write the synthetic demo dataset')
    parser.add_argument('--out', default='data/demo', help='output folder')
    parser.add_argument('--num-train', type=int,
                        default=DEMO_DATA['num_train'])
    parser.add_argument('--num-test', type=int, default=DEMO_DATA['num_test'])
    parser.add_argument('--height', type=int, default=DEMO_DATA['height'])
    parser.add_argument('--width', type=int, default=DEMO_DATA['width'])
    parser.add_argument('--seed', type=int, default=DEMO_DATA['seed'])
    parser.add_argument('--classes', nargs='+', choices=M3FD_CLASSES,
                        default=list(DEMO_DATA['classes']),
                        help='M3FD classes drawn and annotated')
    parser.add_argument('--difficult-below', type=int,
                        default=DEMO_DATA['difficult_below'],
                        help='mark boxes with a shorter side below this '
                        'many pixels as difficult')
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
        seed=args.seed,
        classes=args.classes,
        difficult_below=args.difficult_below)
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
