"""Loss generation module G of TDFusion (the official ``LPN``).

Layout of the official ``LPN`` (HaowenBai/TDFusion, ``nets/ReFusion.py``)
with its defaults ``dim=16, num_blocks=2, heads=[8, 8, 8]`` (only ``heads[0]``
is used), ``ffn_expansion_factor=2, bias=False``; official: 44,529 parameters,
all convolutions without bias:

* ``patch_embed1`` / ``patch_embed2``: 3x3 conv 1 -> dim, one per modality;
* ``encoder1`` / ``encoder2``: ``num_blocks`` Restormer blocks at ``dim``;
* channel concatenation (infrared first), ``encoder3``: ``num_blocks``
  Restormer blocks at ``2 * dim``;
* ``out1`` (3x3, 2 * dim -> dim), ``out2`` PReLU (one slope, init 0.25),
  ``out3`` (3x3, dim -> 2), softmax over the two channels.

Channel 0 is the weight of the infrared term of the intensity loss (w_ir),
channel 1 that of the visible term (w_vis), as in the official training
script (``w[:, 0:1]`` pairs with the infrared image). Any H x W works.
"""
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from tdfusion_mm.registry import MODELS
from ..layers import check_luma_pair, transformer_blocks


@MODELS.register_module()
class LossGenerationModule(BaseModule):
    """Loss generation module G: (infrared, visible) -> per-pixel weights.

    Attribute names mirror the official ``LPN``, so our state-dict keys are
    the official ones minus the ``<conv>.conv.weight`` aliases.

    Args:
        dim (int): Channels of each modality branch. Defaults to 16.
        num_blocks (int): Transformer blocks per encoder. Defaults to 2.
        num_heads (int): Attention heads everywhere. Defaults to 8.
        ffn_expansion_factor (float): GDFN expansion. Defaults to 2.
        bias (bool): Convolution bias. Defaults to False.
        centre_logits (bool): Beyond the paper: centre the logit difference
            ``out[:, 0] - out[:, 1]`` per image and add a separately learned
            global ``balance`` before the (two-channel) softmax, so that the
            network's parameters shape only where w_ir is above or below the
            image's own level, and the common level is one scalar. False
            (default) is the official LPN.
        init_cfg (dict | list[dict], optional): mmengine init config.
            Defaults to None (PyTorch default initialisation, as official).
    """

    def __init__(self,
                 dim: int = 16,
                 num_blocks: int = 2,
                 num_heads: int = 8,
                 ffn_expansion_factor: float = 2,
                 bias: bool = False,
                 centre_logits: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)

        self.patch_embed1 = nn.Conv2d(1, dim, 3, padding=1, bias=bias)
        self.patch_embed2 = nn.Conv2d(1, dim, 3, padding=1, bias=bias)
        block_args = (num_heads, ffn_expansion_factor, bias)
        self.encoder1 = transformer_blocks(num_blocks, dim, *block_args)
        self.encoder2 = transformer_blocks(num_blocks, dim, *block_args)
        self.encoder3 = transformer_blocks(num_blocks, dim * 2, *block_args)
        self.out1 = nn.Conv2d(dim * 2, dim, 3, padding=1, bias=bias)
        self.out2 = nn.PReLU(num_parameters=1, init=0.25)
        self.out3 = nn.Conv2d(dim, 2, 3, padding=1, bias=bias)
        self.centre_logits = centre_logits
        if centre_logits:
            self.balance = nn.Parameter(torch.zeros(()))

    def forward(self, ir: torch.Tensor, vis_y: torch.Tensor) -> torch.Tensor:
        """Predict the intensity-loss weights.

        Args:
            ir (Tensor): Infrared, (B, 1, H, W), values in [0, 1].
            vis_y (Tensor): Visible luma (Y), (B, 1, H, W), values in [0, 1].

        Returns:
            Tensor: (B, 2, H, W) weights summing to 1 over dim 1; channel 0
            is w_ir, channel 1 is w_vis.
        """
        check_luma_pair(ir, vis_y)
        x1 = self.encoder1(self.patch_embed1(ir))
        x2 = self.encoder2(self.patch_embed2(vis_y))
        out = self.encoder3(torch.cat([x1, x2], dim=1))
        out = self.out3(self.out2(self.out1(out)))
        if self.centre_logits:
            diff = out[:, :1] - out[:, 1:]
            diff = diff - diff.mean((2, 3), keepdim=True) + self.balance
            w_ir = torch.sigmoid(diff)
            return torch.cat([w_ir, 1 - w_ir], dim=1)
        return out.softmax(dim=1)
