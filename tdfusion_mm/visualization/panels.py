"""Side-by-side panels of a fusion: sources, fused image, G's weights."""
from typing import Dict, List, Optional, Tuple, Union

import cv2
import numpy as np
import torch

from tdfusion_mm.utils.image_dtype import unit_to_uint8

__all__ = ['to_bgr8', 'weight_colour_map', 'tile_row', 'fusion_panel']


def to_bgr8(img: torch.Tensor) -> np.ndarray:
    """(1 or 3, H, W) image in [0, 1] (BGR if colour) -> (H, W, 3) uint8
    BGR."""
    array = unit_to_uint8(
        img.detach().float().cpu().numpy().transpose(1, 2, 0))
    return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR) \
        if array.shape[2] == 1 else np.ascontiguousarray(array)


def weight_colour_map(weight: torch.Tensor) -> np.ndarray:
    """(1, H, W) or (H, W) weight in [0, 1] -> (H, W, 3) uint8 BGR, JET
    colour map (blue 0, red 1)."""
    array = weight.detach().float().cpu().numpy()
    array = unit_to_uint8(array.reshape(array.shape[-2:]))
    return cv2.applyColorMap(array, cv2.COLORMAP_JET)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    scale = max(tile.shape[0] / 400, 0.35)
    thick = max(int(round(scale * 2)), 1)
    org = (4, int(14 * scale / 0.5))
    cv2.putText(tile, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                thick + 2, cv2.LINE_AA)
    cv2.putText(tile, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thick, cv2.LINE_AA)
    return tile


def tile_row(tiles: List[Tuple[np.ndarray, str]],
             labels: bool = True) -> np.ndarray:
    """Put (H, W, 3) uint8 BGR tiles side by side, each captioned.

    Args:
        tiles (list[tuple[np.ndarray, str]]): Tiles of one height and their
            captions.
        labels (bool): Write the captions. Defaults to True.

    Returns:
        np.ndarray: (H, sum of W, 3) uint8 BGR.
    """
    return np.concatenate(
        [_label(tile.copy(), text) if labels else tile
         for tile, text in tiles], axis=1)


def fusion_panel(ir: torch.Tensor,
                 vis: torch.Tensor,
                 fused: Union[torch.Tensor, Dict[str, torch.Tensor]],
                 w_ir: Optional[torch.Tensor] = None,
                 labels: bool = True) -> np.ndarray:
    """One row IR | visible | fused [| w_ir as a colour map].

    Several fused images (e.g. of a fixed and a learned loss) may be given
    as ``{caption: image}``; each gets a tile, in order.

    Args:
        ir (Tensor): (1, H, W) infrared in [0, 1].
        vis (Tensor): (3, H, W) BGR or (1, H, W) visible in [0, 1].
        fused (Tensor | dict[str, Tensor]): (1 or 3, H, W) fused image(s)
            in [0, 1].
        w_ir (Tensor, optional): (1, H, W) infrared weight of G in [0, 1].
        labels (bool): Write a caption on every tile. Defaults to True.

    Returns:
        np.ndarray: (H, n W, 3) uint8 RGB image (the format of mmengine's
        ``Visualizer.add_image``).
    """
    if not isinstance(fused, dict):
        fused = dict(fused=fused)
    tiles = [(to_bgr8(ir), 'IR'), (to_bgr8(vis), 'visible')]
    tiles += [(to_bgr8(img), caption) for caption, img in fused.items()]
    if w_ir is not None:
        tiles.append((weight_colour_map(w_ir), 'w_ir'))
    return cv2.cvtColor(tile_row(tiles, labels), cv2.COLOR_BGR2RGB)
