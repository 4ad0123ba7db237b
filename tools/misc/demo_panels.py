"""Panels of a trained TDFusion model on its test split, one per image:
IR | visible | fused | G's w_ir | T's predictions on the fused image.

    python tools/misc/demo_panels.py CONFIG CHECKPOINT --out DIR

Detections are drawn in red with their score (those above ``--score-thr``),
the ground-truth boxes in green; segmentation predictions are blended in the
dataset's palette. Images are enlarged to at least ``--min-height`` pixels
(nearest neighbour) so that small demo images stay readable.

It ends with G's mean w_ir on the annotated objects' pixels and on the rest
of the test images, and says whether G tells them apart: a gap of less than
``--uniform-gap`` (0.05) means G's weights are uniform, i.e. G has not
learned where the task needs the infrared.
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from tdfusion_mm.registry import DATASETS, MODELS
from tdfusion_mm.utils import ObjectBackgroundMean, register_all_modules
from tdfusion_mm.utils.checkpoint import load_checkpoint_file
from tdfusion_mm.utils.image_dtype import int_to_unit, unit_to_uint8
from tdfusion_mm.visualization import fusion_panel


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--min-height', type=int, default=288)
    parser.add_argument('--max-images', type=int, default=None)
    parser.add_argument('--uniform-gap', type=float, default=0.05,
                        help='w_ir gap between objects and background '
                        'below which G is reported as uniform')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def read_unit(path: str, flag: int) -> torch.Tensor:
    """An 8-bit image as a (C, H, W) float tensor in [0, 1]."""
    img = cv2.imread(path, flag)
    if img is None:
        raise OSError(f'cannot read image {path}')
    img = img[..., None] if img.ndim == 2 else img
    return torch.from_numpy(int_to_unit(img)).permute(2, 0, 1)


def draw_prediction(fused_bgr: np.ndarray, sample, score_thr: float,
                    palette) -> np.ndarray:
    """T's prediction on the fused image (BGR uint8)."""
    canvas = fused_bgr.copy()
    if 'pred_instances' in sample:
        for box in sample.gt_instances.bboxes.tolist():
            x0, y0, x1, y1 = map(int, box)
            cv2.rectangle(canvas, (x0, y0), (x1, y1), (0, 200, 0), 1)
        pred = sample.pred_instances
        for box, score in zip(pred.bboxes.tolist(), pred.scores.tolist()):
            if score < score_thr:
                continue
            x0, y0, x1, y1 = map(int, box)
            cv2.rectangle(canvas, (x0, y0), (x1, y1), (0, 0, 255), 1)
            cv2.putText(canvas, f'{score:.2f}', (x0, max(y0 - 2, 8)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 0, 255), 1)
    elif 'pred_sem_seg' in sample:
        label = sample.pred_sem_seg.data[0].cpu().numpy()
        colours = np.array(palette, np.uint8)[..., ::-1]  # RGB -> BGR
        canvas = cv2.addWeighted(canvas, 0.4, colours[label], 0.6, 0)
    return canvas


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    init_default_scope('tdfusion_mm')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = MODELS.build(cfg.model)
    model.load_state_dict(
        load_checkpoint_file(args.checkpoint)['state_dict'])
    model.eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    palette = dataset.metainfo.get('palette')
    os.makedirs(args.out, exist_ok=True)
    count = len(dataset) if args.max_images is None else min(
        args.max_images, len(dataset))
    g_means = ObjectBackgroundMean()
    for i in range(count):
        item = dataset[i]
        with torch.no_grad():
            data = model.data_preprocessor(pseudo_collate([item]), False)
            inputs = data['inputs']
            g_means.add(model.loss_weights(inputs['ir'], inputs['vis'])[:, :1],
                        data['data_samples'], boxes_scaled=False)
            sample = model.predict(data['inputs'], data['data_samples'])[0]
            ir = read_unit(sample.ir_path, cv2.IMREAD_GRAYSCALE)
            vis_bgr = read_unit(sample.img_path, cv2.IMREAD_COLOR)
            fused = model.fuse(ir[None], vis_bgr[None])['image'][0]
            w_ir = model.loss_weights(ir[None], vis_bgr[None])[0, :1]
        row = cv2.cvtColor(fusion_panel(ir, vis_bgr, fused, w_ir),
                           cv2.COLOR_RGB2BGR)
        fused_bgr = np.ascontiguousarray(
            unit_to_uint8(fused.permute(1, 2, 0).numpy()))
        if fused_bgr.shape[2] == 1:
            fused_bgr = cv2.cvtColor(fused_bgr, cv2.COLOR_GRAY2BGR)
        scale = max(1, -(-args.min_height // row.shape[0]))
        row = cv2.resize(row, None, fx=scale, fy=scale,
                         interpolation=cv2.INTER_NEAREST)
        big = cv2.resize(fused_bgr, None, fx=scale, fy=scale,
                         interpolation=cv2.INTER_NEAREST)
        if 'pred_instances' in sample:
            for key in ('pred_instances', 'gt_instances'):
                sample.get(key).bboxes = sample.get(key).bboxes * scale
        else:
            sample.pred_sem_seg.data = torch.nn.functional.interpolate(
                sample.pred_sem_seg.data[None].float(), scale_factor=scale,
                mode='nearest')[0].long()
        tile = draw_prediction(big, sample, args.score_thr, palette)
        cv2.putText(tile, "T's predictions", (4, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        panel = np.concatenate([row, tile], axis=1)
        name = osp.splitext(osp.basename(sample.img_path))[0]
        path = osp.join(args.out, f'{name}.png')
        if not cv2.imwrite(path, panel):
            raise OSError(f'cannot write {path}')
    print(f'{count} panel(s) written to {args.out} (IR | visible | fused | '
          "w_ir | T's predictions)")
    print(generator_verdict(g_means.result(), args.uniform_gap))


def generator_verdict(means: dict, uniform_gap: float) -> str:
    """One line: G's w_ir on objects and background, and whether it tells
    them apart by ``uniform_gap``."""
    if len(means) < 2:
        return ("G's w_ir: the test images have no annotated objects (or "
                'no background) to compare')
    gap = means['objects'] - means['background']
    line = (f"G's w_ir on the test images: objects {means['objects']:.3f}, "
            f"background {means['background']:.3f} (gap {gap:+.3f}): ")
    if abs(gap) < uniform_gap:
        return line + (f'uniform at this budget (|gap| < {uniform_gap}): G '
                       'has not learned where the task needs the infrared')
    return line + (f'G weighs the objects apart from the background (|gap| '
                   f'>= {uniform_gap})')


if __name__ == '__main__':
    main()
