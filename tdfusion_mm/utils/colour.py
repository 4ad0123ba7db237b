"""Colour handling for luma fusion: OpenCV's YCrCb in torch and numpy.

The forward conversion is exactly ``cv2.COLOR_BGR2YCrCb`` for images in
[0, 1] (``delta = 0.5``)::

    Y  = 0.299 R + 0.587 G + 0.114 B
    Cr = (R - Y) * 0.713 + 0.5
    Cb = (B - Y) * 0.564 + 0.5

The torch inverse is the exact inverse of these formulas, so a round trip is
lossless. OpenCV's own inverse rounds its coefficients (1.403, 0.714, 0.344,
1.773) and differs from it by less than 5e-4 per unit of chroma.
"""
from typing import Optional, Tuple

import cv2
import numpy as np
import torch
from torch import Tensor

from .image_dtype import to_unit_clipped, unit_to_uint8

__all__ = [
    'to_ycrcb', 'from_ycrcb', 'luma', 'merge_chroma', 'restore_colour',
    'luma_array', 'restore_colour_array'
]

_KR, _KG, _KB = 0.299, 0.587, 0.114
_CR_SCALE, _CB_SCALE = 0.713, 0.564
_DELTA = 0.5


def _check_colour(img: Tensor, name: str, channel_order: str) -> None:
    if channel_order not in ('bgr', 'rgb'):
        raise ValueError("channel_order must be 'bgr' or 'rgb', "
                         f'got {channel_order!r}')
    if img.dim() != 4 or img.size(1) != 3:
        raise ValueError(f'{name} must be (B, 3, H, W), got '
                         f'{tuple(img.shape)}')


def _rgb_planes(img: Tensor, channel_order: str) -> Tuple[Tensor, ...]:
    """Split a (B, 3, H, W) image into (B, 1, H, W) R, G, B planes."""
    _check_colour(img, 'img', channel_order)
    first, g, last = img.split(1, dim=1)
    return (last, g, first) if channel_order == 'bgr' else (first, g, last)


def to_ycrcb(img: Tensor, channel_order: str = 'bgr') -> Tensor:
    """Convert a BGR or RGB image in [0, 1] to YCrCb as OpenCV does.

    Args:
        img (Tensor): Colour image of shape (B, 3, H, W) in [0, 1].
        channel_order (str): ``'bgr'`` or ``'rgb'``. Defaults to ``'bgr'``.

    Returns:
        Tensor: (B, 3, H, W) with channels Y, Cr, Cb.
    """
    r, g, b = _rgb_planes(img, channel_order)
    y = _KR * r + _KG * g + _KB * b
    cr = (r - y) * _CR_SCALE + _DELTA
    cb = (b - y) * _CB_SCALE + _DELTA
    return torch.cat([y, cr, cb], dim=1)


def from_ycrcb(ycrcb: Tensor, channel_order: str = 'bgr') -> Tensor:
    """Convert YCrCb back to a BGR or RGB image (exact inverse, no clamp).

    Args:
        ycrcb (Tensor): (B, 3, H, W) with channels Y, Cr, Cb.
        channel_order (str): Order of the returned channels, ``'bgr'`` or
            ``'rgb'``. Defaults to ``'bgr'``.

    Returns:
        Tensor: (B, 3, H, W) colour image.
    """
    _check_colour(ycrcb, 'ycrcb', channel_order)
    y, cr, cb = ycrcb.split(1, dim=1)
    r = y + (cr - _DELTA) / _CR_SCALE
    b = y + (cb - _DELTA) / _CB_SCALE
    g = (y - _KR * r - _KB * b) / _KG
    planes = (b, g, r) if channel_order == 'bgr' else (r, g, b)
    return torch.cat(planes, dim=1)


def luma(img: Tensor, channel_order: str = 'bgr') -> Tensor:
    """Y channel of an image; a 1-channel image is returned as is.

    Args:
        img (Tensor): (B, 3, H, W) colour or (B, 1, H, W) grey image.
        channel_order (str): ``'bgr'`` or ``'rgb'``. Defaults to ``'bgr'``.

    Returns:
        Tensor: (B, 1, H, W) luma.
    """
    if img.dim() == 4 and img.size(1) == 1:
        return img
    r, g, b = _rgb_planes(img, channel_order)
    return _KR * r + _KG * g + _KB * b


def merge_chroma(c_a: Tensor, c_b: Tensor) -> Tensor:
    """Mix the chroma of two colour sources, weighted by |C - 0.5|.

    Per pixel and channel the more saturated source dominates; where both
    are neutral the result is neutral (0.5).

    Args:
        c_a (Tensor): Chroma (Cr, Cb) of the first source, (B, 2, H, W).
        c_b (Tensor): Chroma of the second source, same shape.

    Returns:
        Tensor: Merged chroma, same shape.
    """
    d_a, d_b = c_a - _DELTA, c_b - _DELTA
    w_a, w_b = d_a.abs(), d_b.abs()
    mixed = (d_a * w_a + d_b * w_b) / (w_a + w_b).clamp_min(1e-12)
    return mixed + _DELTA


def restore_colour(fused_y: Tensor,
                   vis: Tensor,
                   channel_order: str = 'bgr',
                   ir: Optional[Tensor] = None) -> Tensor:
    """Put chroma back on a fused luma image.

    The chroma comes from the colour sources: the visible image, and the
    infrared image when it is given and is colour too (then both are mixed
    by :func:`merge_chroma`). If no source is colour the result is grey.

    Args:
        fused_y (Tensor): Fused luma, (B, 1, H, W) in [0, 1].
        vis (Tensor): Visible image, (B, 3, H, W) or (B, 1, H, W) in [0, 1].
        channel_order (str): Order of the colour channels of the inputs and
            of the output, ``'bgr'`` or ``'rgb'``. Defaults to ``'bgr'``.
        ir (Tensor, optional): Infrared image, (B, 3, H, W) or
            (B, 1, H, W). Defaults to None.

    Returns:
        Tensor: (B, 3, H, W) colour, or (B, 1, H, W) if no source is
        colour, clamped to [0, 1].
    """
    if fused_y.dim() != 4 or fused_y.size(1) != 1:
        raise ValueError('fused_y must be (B, 1, H, W), got '
                         f'{tuple(fused_y.shape)}')
    chroma = [
        to_ycrcb(src, channel_order)[:, 1:] for src in (vis, ir)
        if src is not None and src.size(1) == 3
    ]
    if not chroma:
        return fused_y.clamp(0, 1)
    crcb = chroma[0] if len(chroma) == 1 else merge_chroma(*chroma)
    ycrcb = torch.cat([fused_y, crcb], dim=1)
    return from_ycrcb(ycrcb, channel_order).clamp(0, 1)


def _is_grey(img: np.ndarray) -> bool:
    return img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 1)


def luma_array(img: np.ndarray) -> np.ndarray:
    """Y channel of a BGR or grey array via ``cv2.cvtColor``.

    Args:
        img (np.ndarray): (H, W, 3) BGR or (H, W) / (H, W, 1) grey image,
            uint8, uint16 or float.

    Returns:
        np.ndarray: (H, W) luma with the input's dtype (float64 input is
        converted in float32).
    """
    if _is_grey(img):
        return img.reshape(img.shape[:2]).copy()
    src = img.astype(np.float32) if img.dtype == np.float64 else img
    return cv2.cvtColor(src, cv2.COLOR_BGR2YCrCb)[..., 0].astype(img.dtype)


def restore_colour_array(fused_y: np.ndarray,
                         vis_bgr: np.ndarray) -> np.ndarray:
    """Colour a fused luma array with the visible image's chroma, to save.

    Args:
        fused_y (np.ndarray): (H, W) or (H, W, 1) fused luma, uint8, uint16
            or float in [0, 1].
        vis_bgr (np.ndarray): Visible image, (H, W, 3) BGR or (H, W) /
            (H, W, 1) grey, uint8, uint16 or float in [0, 1].

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR for a colour visible image, (H, W)
        uint8 grey for a grey one.
    """
    y = to_unit_clipped(fused_y).reshape(fused_y.shape[:2])
    if y.shape != vis_bgr.shape[:2]:
        raise ValueError(f'fused_y {fused_y.shape} and vis_bgr '
                         f'{vis_bgr.shape} differ in size')
    if _is_grey(vis_bgr):
        out = y
    else:
        ycrcb = cv2.cvtColor(to_unit_clipped(vis_bgr), cv2.COLOR_BGR2YCrCb)
        ycrcb[..., 0] = y
        out = cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR)
    return unit_to_uint8(out)
