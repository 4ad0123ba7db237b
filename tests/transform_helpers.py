"""Paired samples for the transform tests: a smooth visible image, its grey
infrared twin and a results dict with one box."""
import cv2
import numpy as np
import torch
from mmdet.structures.bbox import HorizontalBoxes

H, W = 60, 80


def smooth_vis(h=H, w=W, seed=0):
    """A smooth BGR image: interpolation errors stay small."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 10 + 1, w // 10 + 1, 3), np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def grey(img):
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def write(path, img):
    assert cv2.imwrite(str(path), img)
    return str(path)


def pair_results(vis=None, ir=None, boxes=((10., 5., 30., 25.), )):
    vis = smooth_vis() if vis is None else vis
    ir = grey(vis) if ir is None else ir
    return dict(
        img=vis,
        ir_img=ir,
        img_shape=vis.shape[:2],
        ori_shape=vis.shape[:2],
        img_path='vis.png',
        ir_path='ir.png',
        gt_bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32)),
        gt_bboxes_labels=np.zeros(len(boxes), np.int64),
        gt_ignore_flags=np.zeros(len(boxes), bool))
