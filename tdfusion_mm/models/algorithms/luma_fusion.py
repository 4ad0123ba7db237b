"""Fusion in luma, the one path from a pair to a fused image: F on the
infrared and the visible image's Y, then the visible chroma put back.

:func:`fuse_batch` works on tensors (training, panels: torch colour,
differentiable, on any device), :func:`fuse_pair` on one pair of arrays
(the inferencer and the tools: OpenCV's colour, to save); both run
:func:`fused_luma`, and the two colour implementations agree to float
rounding (see :mod:`tdfusion_mm.utils.colour`).
"""
from typing import Dict

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ['fused_luma', 'fuse_batch', 'fuse_pair', 'unit_tensor']


def fused_luma(fusion_backbone: nn.Module,
               ir: Tensor,
               vis_y: Tensor,
               stretch: bool = False) -> Tensor:
    """F's fused luma (B, 1, H, W) of (B, 1, H, W) infrared and visible
    luma; ``stretch`` min-max stretches each image to [0, 1], as the
    official test script does."""
    fused = fusion_backbone(ir, vis_y)
    if stretch:
        flat = fused.flatten(1)
        low = flat.min(1)[0].view(-1, 1, 1, 1)
        high = flat.max(1)[0].view(-1, 1, 1, 1)
        fused = (fused - low) / (high - low).clamp_min(1e-12)
    return fused


def fuse_batch(fusion_backbone: nn.Module,
               ir: Tensor,
               vis_bgr: Tensor,
               stretch: bool = False) -> Dict[str, Tensor]:
    """Fuse a batch of tensors.

    Args:
        fusion_backbone (nn.Module): F.
        ir (Tensor): (B, 1, H, W) infrared in [0, 1].
        vis_bgr (Tensor): (B, C, H, W) visible in [0, 1], BGR or grey.
        stretch (bool): See :func:`fused_luma`. Defaults to False.

    Returns:
        dict: ``luma`` (B, 1, H, W) and ``image`` (B, C, H, W), the fused
        luma with the visible image's colour restored, both in [0, 1].
    """
    from tdfusion_mm.utils.colour import luma, restore_colour
    fused = fused_luma(fusion_backbone, ir, luma(vis_bgr), stretch)
    return dict(luma=fused, image=restore_colour(fused, vis_bgr))


def unit_tensor(img: np.ndarray) -> Tensor:
    """(H, W) or (H, W, C) float array -> (1, 1 or C, H, W) tensor."""
    img = img[..., None] if img.ndim == 2 else img
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]


@torch.no_grad()
def fuse_pair(fusion_backbone: nn.Module,
              ir_unit: np.ndarray,
              vis_unit: np.ndarray,
              stretch: bool = False) -> np.ndarray:
    """Fuse one pair of float32 arrays in [0, 1] on F's device.

    Args:
        fusion_backbone (nn.Module): F.
        ir_unit (np.ndarray): (H, W) infrared.
        vis_unit (np.ndarray): (H, W, 3) BGR or (H, W) grey visible image.
        stretch (bool): See :func:`fused_luma`. Defaults to False.

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR, or (H, W) for a grey visible image.
    """
    from tdfusion_mm.utils.colour import luma_array, restore_colour_array
    device = next(fusion_backbone.parameters()).device
    fused = fused_luma(fusion_backbone,
                       unit_tensor(ir_unit).to(device),
                       unit_tensor(luma_array(vis_unit)).to(device), stretch)
    return restore_colour_array(fused[0, 0].cpu().numpy(), vis_unit)
