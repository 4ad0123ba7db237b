"""The input check of the networks that take an infrared and a visible
luma image (F, G and the fixed weights that stand in for G)."""
import torch

__all__ = ['check_luma_pair']


def check_luma_pair(ir: torch.Tensor, vis_y: torch.Tensor) -> None:
    """Raise ``ValueError`` unless both are (B, 1, H, W) of the same shape."""
    if ir.shape != vis_y.shape or ir.dim() != 4 or ir.shape[1] != 1:
        raise ValueError('ir and vis_y must both be (B, 1, H, W), got '
                         f'{tuple(ir.shape)} and {tuple(vis_y.shape)}')
