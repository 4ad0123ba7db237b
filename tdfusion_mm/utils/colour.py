"""Colour handling for luma fusion: OpenCV's YCrCb, in torch and numpy.

The forward conversion is exactly ``cv2.COLOR_BGR2YCrCb`` for images in
[0, 1] (``delta = 0.5``), in both::

    Y  = 0.299 R + 0.587 G + 0.114 B
    Cr = (R - Y) * 0.713 + 0.5
    Cb = (B - Y) * 0.564 + 0.5

The torch inverse (what T sees in training) is the exact inverse of these
formulas, so a round trip is lossless; the numpy one (what is saved) is
OpenCV's, whose coefficients are rounded (1.403, 0.714, 0.344, 1.773) and
differ from the exact ones by less than 5e-4 per unit of chroma. Both agree
to one grey level.
"""
import cv2
import numpy as np
import torch
from torch import Tensor

from .image_dtype import to_unit_clipped, unit_to_uint8

__all__ = [
    'to_ycrcb', 'from_ycrcb', 'luma', 'restore_colour', 'luma_array',
    'restore_colour_array'
]

_KR, _KG, _KB = 0.299, 0.587, 0.114
_CR_SCALE, _CB_SCALE = 0.713, 0.564
_DELTA = 0.5


def _check_colour(img: Tensor, name: str) -> None:
    if img.dim() != 4 or img.size(1) != 3:
        raise ValueError(f'{name} must be (B, 3, H, W), got '
                         f'{tuple(img.shape)}')


def to_ycrcb(img: Tensor) -> Tensor:
    """(B, 3, H, W) BGR in [0, 1] -> (B, 3, H, W) Y, Cr, Cb."""
    _check_colour(img, 'img')
    b, g, r = img.split(1, dim=1)
    y = _KR * r + _KG * g + _KB * b
    cr = (r - y) * _CR_SCALE + _DELTA
    cb = (b - y) * _CB_SCALE + _DELTA
    return torch.cat([y, cr, cb], dim=1)


def from_ycrcb(ycrcb: Tensor) -> Tensor:
    """(B, 3, H, W) Y, Cr, Cb -> (B, 3, H, W) BGR, the exact inverse of
    :func:`to_ycrcb` (not clamped)."""
    _check_colour(ycrcb, 'ycrcb')
    y, cr, cb = ycrcb.split(1, dim=1)
    r = y + (cr - _DELTA) / _CR_SCALE
    b = y + (cb - _DELTA) / _CB_SCALE
    g = (y - _KR * r - _KB * b) / _KG
    return torch.cat([b, g, r], dim=1)


def luma(img: Tensor) -> Tensor:
    """(B, 1, H, W) Y of a (B, 3, H, W) BGR image; a (B, 1, H, W) grey
    image is returned as is."""
    if img.dim() == 4 and img.size(1) == 1:
        return img
    _check_colour(img, 'img')
    b, g, r = img.split(1, dim=1)
    return _KR * r + _KG * g + _KB * b


def restore_colour(fused_y: Tensor, vis: Tensor) -> Tensor:
    """Put the visible image's chroma on a fused luma image.

    Args:
        fused_y (Tensor): Fused luma, (B, 1, H, W) in [0, 1].
        vis (Tensor): Visible image, (B, 3, H, W) BGR or (B, 1, H, W) grey,
            in [0, 1].

    Returns:
        Tensor: (B, 3, H, W) BGR, or (B, 1, H, W) for a grey visible image,
        clamped to [0, 1].
    """
    if fused_y.dim() != 4 or fused_y.size(1) != 1:
        raise ValueError('fused_y must be (B, 1, H, W), got '
                         f'{tuple(fused_y.shape)}')
    if vis.size(1) != 3:
        return fused_y.clamp(0, 1)
    ycrcb = torch.cat([fused_y, to_ycrcb(vis)[:, 1:]], dim=1)
    return from_ycrcb(ycrcb).clamp(0, 1)


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
