"""The fusion loss of TDFusion, with per-pixel intensity weights from G."""
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from tdfusion_mm.registry import MODELS

_SOBEL_X = ((-1., 0., 1.), (-2., 0., 2.), (-1., 0., 1.))


def sobel(img: Tensor) -> Tensor:
    """Sobel responses of a (B, 1, H, W) image, zero padded.

    Returns:
        Tensor: (B, 2, H, W), the x response then the y response.
    """
    kx = img.new_tensor(_SOBEL_X)
    kernels = torch.stack([kx, kx.t()]).unsqueeze(1)
    return F.conv2d(img, kernels, padding=1)


def max_abs(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise the value of larger magnitude, with its sign (ties: ``a``)."""
    return torch.where(a.abs() >= b.abs(), a, b)


@MODELS.register_module()
class LearnableFusionLoss(BaseModule):
    """Intensity term weighted by G plus the max-gradient term.

    ``L = alpha_int * (mean((w_ir*(IR-Fz))^2) + mean((w_vis*(VIS-Fz))^2))
    + alpha_grad * (mean|Sx(Fz) - maxabs(Sx(IR), Sx(VIS))|
    + mean|Sy(Fz) - maxabs(Sy(IR), Sy(VIS))|)``, all images luma in [0, 1].

    Args:
        alpha_int (float): Coefficient of the intensity term. Defaults to 1.
        alpha_grad (float): Coefficient of the gradient term. Defaults to 1.
    """

    def __init__(self, alpha_int: float = 1.0, alpha_grad: float = 1.0):
        super().__init__()
        self.alpha_int = alpha_int
        self.alpha_grad = alpha_grad

    def forward(self, fused: Tensor, ir: Tensor, vis_y: Tensor,
                weights: Tensor) -> Dict[str, Tensor]:
        """Compute the loss terms.

        Args:
            fused (Tensor): Fused luma, (B, 1, H, W).
            ir (Tensor): Infrared, (B, 1, H, W).
            vis_y (Tensor): Visible luma, (B, 1, H, W).
            weights (Tensor): (B, 2, H, W) from G: channel 0 weighs the
                infrared, channel 1 the visible image.

        Returns:
            dict: ``loss_fusion_int`` and ``loss_fusion_grad``, each already
            multiplied by its coefficient; their sum is the fusion loss.
        """
        for name, t in (('ir', ir), ('vis_y', vis_y), ('weights', weights)):
            if t.shape[-2:] != fused.shape[-2:] or t.shape[0] != fused.shape[0]:
                raise ValueError(
                    f'LearnableFusionLoss: `{name}` has shape '
                    f'{tuple(t.shape)}, `fused` has {tuple(fused.shape)}')
        w_ir, w_vis = weights[:, 0:1], weights[:, 1:2]
        loss_int = ((w_ir * (ir - fused))**2).mean() + \
            ((w_vis * (vis_y - fused))**2).mean()
        target = max_abs(sobel(ir), sobel(vis_y))
        # Mean over each axis, summed: L1(Sx) + L1(Sy).
        loss_grad = 2 * (sobel(fused) - target).abs().mean()
        return dict(
            loss_fusion_int=self.alpha_int * loss_int,
            loss_fusion_grad=self.alpha_grad * loss_grad)
