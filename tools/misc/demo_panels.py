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

from tdfusion_mm.apis import FusionInferencer, UserError
from tdfusion_mm.models.algorithms.luma_fusion import unit_tensor
from tdfusion_mm.registry import DATASETS
from tdfusion_mm.utils import ObjectBackgroundMean
from tdfusion_mm.visualization import fusion_panel, to_bgr8


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
            if score < score_thr or not np.isfinite(box).all():
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
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    inferencer = FusionInferencer(cfg, args.checkpoint, device='cpu')
    if not inferencer.has_task:
        raise UserError(f'{args.checkpoint} has no weights of the task '
                        'network: the panels need F, G and T')
    model = inferencer.model
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    palette = dataset.metainfo.get('palette')
    os.makedirs(args.out, exist_ok=True)
    count = len(dataset) if args.max_images is None else min(
        args.max_images, len(dataset))
    g_means = ObjectBackgroundMean()
    for i in range(count):
        with torch.no_grad():
            data = model.data_preprocessor(pseudo_collate([dataset[i]]),
                                           False)
            inputs = data['inputs']
            g_means.add(model.loss_weights(inputs['ir'], inputs['vis'])[:, :1],
                        data['data_samples'], boxes_scaled=False)
            sample = model.predict(data['inputs'], data['data_samples'])[0]
            name = osp.splitext(osp.basename(sample.img_path))[0]
            pair = inferencer.read(
                dict(name=name, ir=sample.ir_path, vis=sample.img_path))
            fused = inferencer.fuse(pair['ir_unit'], pair['vis_unit'])
            w_ir = model.loss_weights(unit_tensor(pair['ir_unit']),
                                      unit_tensor(pair['vis_unit']))[0, 0]
        scale = max(1, -(-args.min_height // fused.shape[0]))

        def enlarge(img: np.ndarray) -> np.ndarray:
            return cv2.resize(img, None, fx=scale, fy=scale,
                              interpolation=cv2.INTER_NEAREST)

        fused_bgr = enlarge(to_bgr8(fused))
        if 'pred_instances' in sample:
            for key in ('pred_instances', 'gt_instances'):
                sample.get(key).bboxes = sample.get(key).bboxes * scale
        else:
            sample.pred_sem_seg.data = torch.nn.functional.interpolate(
                sample.pred_sem_seg.data[None].float(), scale_factor=scale,
                mode='nearest')[0].long()
        predictions = draw_prediction(fused_bgr, sample, args.score_thr,
                                      palette)
        panel = fusion_panel(enlarge(pair['ir_unit']),
                             enlarge(pair['vis_unit']), fused_bgr,
                             enlarge(w_ir.numpy()),
                             extra={"T's predictions": predictions})
        path = osp.join(args.out, f'{name}.png')
        if not cv2.imwrite(path, np.ascontiguousarray(panel[..., ::-1])):
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
