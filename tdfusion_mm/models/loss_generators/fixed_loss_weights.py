"""A fixed fusion loss: constant weights in place of G (the paper's baseline)."""
import torch
import torch.nn as nn

from tdfusion_mm.registry import MODELS
from ..layers import check_luma_pair


@MODELS.register_module()
class FixedLossWeights(nn.Module):
    """Constant intensity-loss weights: w_ir everywhere, 1 - w_ir for vis_y.

    Put in place of :class:`LossGenerationModule` to train F on a fixed
    (hand-set) fusion loss; it has nothing to learn, so train with
    ``train_cfg.meta_steps=0`` and without a ``loss_generator`` optimizer.

    Args:
        w_ir (float): Weight of the infrared intensity term, in [0, 1].
            Defaults to 0.5 (the paper's fixed-loss baseline).
    """

    def __init__(self, w_ir: float = 0.5) -> None:
        super().__init__()
        if not 0 <= w_ir <= 1:
            raise ValueError(f'FixedLossWeights: w_ir must be in [0, 1], '
                             f'got {w_ir}')
        self.w_ir = float(w_ir)

    def forward(self, ir: torch.Tensor, vis_y: torch.Tensor) -> torch.Tensor:
        """(B, 2, H, W): channel 0 is w_ir, channel 1 is w_vis."""
        check_luma_pair(ir, vis_y)
        w_ir = torch.full_like(ir, self.w_ir)
        return torch.cat([w_ir, 1 - w_ir], dim=1)
