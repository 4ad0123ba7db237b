"""Fuse an infrared-visible pair (or two folders) and draw the task
network's detections or masks on the fusion.

    python demo/image_demo.py IR VIS CONFIG CHECKPOINT --out-dir outputs

Writes ``outputs/fused/<name>.png`` (the fused image, visible colour),
``outputs/vis/<name>.png`` (IR | visible | fused with T's predictions) and
``outputs/preds/<name>.json`` (boxes, labels, scores) or ``.png`` (label
map). IR and VIS are two image files or two folders matched by file name.
"""
import argparse
import os.path as osp
import sys

from tdfusion_mm.apis import FusionInferencer
from tdfusion_mm.utils import tune_malloc
from tdfusion_mm.utils.cli import add_shared_args
from tdfusion_mm.utils.user_errors import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ir', help='infrared image or folder')
    parser.add_argument('vis', help='visible image or folder')
    add_shared_args(parser, 'config', 'checkpoint')
    parser.add_argument('--out-dir', default='outputs', help='output folder')
    parser.add_argument('--show', action='store_true',
                        help='show each result in a window')
    add_shared_args(parser, 'device', 'pred_score_thr', 'float_range',
                    'debug')
    return parser.parse_args(argv)


def main(args) -> None:
    tune_malloc()
    inferencer = FusionInferencer(args.config, args.checkpoint,
                                  device=args.device)
    result = inferencer(dict(ir=args.ir, vis=args.vis),
                        out_dir=args.out_dir, show=args.show,
                        pred_score_thr=args.pred_score_thr,
                        float_range=args.float_range)
    what = 'fused images, panels and predictions' if inferencer.has_task \
        else 'fused images and panels (no task network in the checkpoint)'
    print(f'{len(result["fused"])} pair(s): {what} written to '
          f'{args.out_dir}')


if __name__ == '__main__':
    cli_args = parse_args()
    sys.exit(run_tool(lambda: main(cli_args)))
