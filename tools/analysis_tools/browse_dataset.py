"""Look at a paired dataset after its pipeline, as mmdet's browse_dataset.

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir browse \
        [--split train|val|test] [--max-items N] [--not-show]

Each item is drawn as one row: IR | visible, both with the annotations
(boxes or label masks) drawn by the task library's visualizer, then the
fusion-loss crops (IR crop | visible crop, scaled to the row's height)
where the pipeline makes them. Saved as ``OUTPUT_DIR/<name>.png`` and/or
shown in a window.
"""
import argparse
import os.path as osp
import sys

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from tdfusion_mm.apis import UserError, write_image
from tdfusion_mm.registry import DATASETS, VISUALIZERS
from tdfusion_mm.utils.cli import add_shared_args, load_config
from tdfusion_mm.utils.image_dtype import to_uint8
from tdfusion_mm.utils.user_errors import run_tool
from tdfusion_mm.visualization import fusion_panel


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--output-dir', default=None,
                        help='save the pictures here')
    parser.add_argument('--split', choices=['train', 'val', 'test'],
                        default='train', help='which dataloader')
    parser.add_argument('--max-items', type=int, default=None,
                        help='stop after this many items')
    parser.add_argument('--not-show', action='store_true',
                        help='do not show the pictures')
    parser.add_argument('--show-interval', type=float, default=2,
                        help='seconds per picture when shown')
    add_shared_args(parser, 'cfg_options', 'debug')
    return parser.parse_args(argv)


def to_bgr8(tensor) -> np.ndarray:
    """A packed (C, H, W) image tensor (uint8 or uint16) -> uint8 BGR."""
    img = np.ascontiguousarray(to_uint8(tensor.numpy().transpose(1, 2, 0)))
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.shape[2] == 1 \
        else img


def annotated(visualizer, name: str, img_bgr: np.ndarray, sample):
    """The image with the sample's ground truth drawn, BGR."""
    visualizer.add_datasample(name, img_bgr[..., ::-1].copy(), sample,
                              draw_gt=True, draw_pred=False, show=False)
    return np.ascontiguousarray(visualizer.get_image()[..., ::-1])


def item_row(visualizer, item: dict, name: str) -> np.ndarray:
    """IR | visible (annotated) [| IR crop | visible crop], BGR."""
    inputs, sample = item['inputs'], item['data_samples']
    sample = sample.numpy() if hasattr(sample, 'numpy') else sample
    gt = sample.get('gt_instances')
    if gt is not None and hasattr(gt.get('bboxes'), 'tensor'):
        gt.bboxes = gt.bboxes.tensor
    ir, vis = (annotated(visualizer, name, to_bgr8(inputs[key]), sample)
               for key in ('ir', 'vis'))
    height = ir.shape[0]
    crops = {}
    for key, caption in (('ir_crop', 'IR crop'), ('vis_crop', 'vis crop')):
        if key in inputs:
            crop = to_bgr8(inputs[key])
            scale = height / crop.shape[0]
            crops[caption] = cv2.resize(
                crop, (max(1, round(crop.shape[1] * scale)), height),
                interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(fusion_panel(ir, vis, extra=crops)[..., ::-1])


def main(args) -> None:
    if not osp.isfile(args.config):
        raise UserError(f'config not found: {args.config}')
    cfg = load_config(args.config, args.cfg_options)
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    vis_cfg = dict(cfg.visualizer, vis_backends=None, name='browse_dataset')
    vis_cfg.pop('save_dir', None)
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = dataset.metainfo
    total = len(dataset) if args.max_items is None else min(
        args.max_items, len(dataset))
    if total == 0:
        raise UserError(f'the {args.split} dataset of {args.config} is empty')
    bar = ProgressBar(total)
    for index in range(total):
        item = dataset[index]
        path = item['data_samples'].metainfo.get('img_path', str(index))
        name = osp.splitext(osp.basename(path))[0]
        row = item_row(visualizer, item, name)
        if args.output_dir:
            write_image(osp.join(args.output_dir, name + '.png'), row)
        if not args.not_show:
            cv2.imshow('browse_dataset', row)
            cv2.waitKey(int(args.show_interval * 1000))
        bar.update()
    if args.output_dir:
        print(f'\n{total} item(s) drawn into {args.output_dir}')


if __name__ == '__main__':
    cli_args = parse_args()
    sys.exit(run_tool(lambda: main(cli_args)))
