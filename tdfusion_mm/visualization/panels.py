"""Side-by-side panels of a fusion: sources, fused image, G's weights."""
from typing import Dict, List, Optional, Tuple, Union

import cv2
import numpy as np
import torch

from tdfusion_mm.utils.image_dtype import unit_to_uint8

__all__ = ['to_bgr8', 'weight_colour_map', 'fusion_panel']

Image = Union[torch.Tensor, np.ndarray]


def to_bgr8(img: Image) -> np.ndarray:
    """An image -> (H, W, 3) uint8 BGR.

    Args:
        img (Tensor | np.ndarray): A (1 or 3, H, W) tensor in [0, 1], or an
            (H, W), (H, W, 1) or (H, W, 3) array, uint8 or float in [0, 1];
            colour is BGR.
    """
    if isinstance(img, torch.Tensor):
        img = img.detach().float().cpu().numpy().transpose(1, 2, 0)
    if img.dtype != np.uint8:
        if not np.issubdtype(img.dtype, np.floating):
            raise TypeError(f'panel tiles are uint8 or float in [0, 1], got '
                            f'{img.dtype}')
        img = unit_to_uint8(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'a panel tile must be grey or 3-channel, got shape '
                         f'{img.shape}')
    return np.ascontiguousarray(img)


def weight_colour_map(weight: Image) -> np.ndarray:
    """(1, H, W) or (H, W) weight in [0, 1] -> (H, W, 3) uint8 BGR, JET
    colour map (blue 0, red 1)."""
    if isinstance(weight, torch.Tensor):
        weight = weight.detach().float().cpu().numpy()
    weight = unit_to_uint8(weight.reshape(weight.shape[-2:]))
    return cv2.applyColorMap(weight, cv2.COLORMAP_JET)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    scale = max(tile.shape[0] / 400, 0.35)
    thick = max(int(round(scale * 2)), 1)
    org = (4, int(14 * scale / 0.5))
    cv2.putText(tile, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                thick + 2, cv2.LINE_AA)
    cv2.putText(tile, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thick, cv2.LINE_AA)
    return tile


def fusion_panel(ir: Image,
                 vis: Image,
                 fused: Union[Image, Dict[str, Image], None] = None,
                 w_ir: Optional[Image] = None,
                 extra: Optional[Dict[str, Image]] = None,
                 labels: bool = True) -> np.ndarray:
    """One row IR | visible | fused [| w_ir as a colour map] [| extra].

    Every tile is a tensor or an array as :func:`to_bgr8` takes it, all of
    one height. Several fused images (e.g. of a fixed and a learned loss)
    may be given as ``{caption: image}``; each gets a tile, in order, and so
    does each entry of ``extra`` (e.g. the task's predictions), after w_ir.

    Args:
        ir: Infrared image.
        vis: Visible image, BGR or grey.
        fused: Fused image(s), BGR or grey. Defaults to None (no tile).
        w_ir: G's infrared weight in [0, 1], (1, H, W) or (H, W). Defaults
            to None (no tile).
        extra (dict, optional): More tiles, ``{caption: image}``.
        labels (bool): Write a caption on every tile. Defaults to True.

    Returns:
        np.ndarray: (H, n W, 3) uint8 RGB image (the format of mmengine's
        ``Visualizer.add_image``).
    """
    if fused is not None and not isinstance(fused, dict):
        fused = dict(fused=fused)
    tiles: List[Tuple[np.ndarray, str]] = [(to_bgr8(ir), 'IR'),
                                           (to_bgr8(vis), 'visible')]
    tiles += [(to_bgr8(img), caption)
              for caption, img in (fused or {}).items()]
    if w_ir is not None:
        tiles.append((weight_colour_map(w_ir), 'w_ir'))
    tiles += [(to_bgr8(img), caption)
              for caption, img in (extra or {}).items()]
    heights = {tile.shape[0] for tile, _ in tiles}
    if len(heights) > 1:
        raise ValueError('panel tiles differ in height: ' +
                         ', '.join(f'{caption} {tile.shape[0]}'
                                   for tile, caption in tiles))
    row = np.concatenate([
        _label(tile.copy(), caption) if labels else tile
        for tile, caption in tiles
    ],
                         axis=1)
    return np.ascontiguousarray(row[..., ::-1])
