"""ReFusion, the fusion network F of TDFusion.

Layout of the official ``ReFusion`` (HaowenBai/TDFusion, ``nets/ReFusion.py``)
with its defaults ``dim=16, num_blocks=2, heads=8, ffn_expansion_factor=2,
bias=False``; official: 59,856 parameters (0.060 M), all convolutions
without bias:

* ``project_in_1`` / ``project_in_2``: 3x3 conv 1 -> dim, one per modality;
* ``encoder1`` / ``encoder2``: ``num_blocks`` Restormer blocks at ``dim``;
* ``FM``: cross-modal attention fusion, 2 x dim -> 2 * dim channels;
* ``decoder``: ``num_blocks`` Restormer blocks at ``2 * dim``;
* ``project_out_0`` (3x3, 2 * dim -> dim), LeakyReLU(0.01),
  ``project_out_1`` (3x3, dim -> 1), sigmoid.

Every convolution is stride 1 with 'same' padding and the attention mixes
channels only, so no padding to a multiple is needed: any H x W works and the
output has the input's size.
"""
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from tdfusion_mm.registry import MODELS
from ..layers import CrossModalFusion, check_luma_pair, transformer_blocks


@MODELS.register_module()
class ReFusion(BaseModule):
    """Fusion network F: (infrared, visible) luma -> fused luma.

    Attribute names mirror the official network, so our state-dict keys are
    the official ones minus the ``<conv>.conv.weight`` aliases of its
    ``MetaConv2d`` wrapper.

    Args:
        dim (int): Channels of each modality branch. Defaults to 16.
        num_blocks (int): Transformer blocks per encoder and in the decoder.
            Defaults to 2.
        num_heads (int): Attention heads everywhere. Defaults to 8.
        ffn_expansion_factor (float): GDFN expansion. Defaults to 2.
        bias (bool): Convolution bias. Defaults to False.
        negative_slope (float): LeakyReLU slope. Defaults to 0.01.
        band_pixels (int): In inference (eval mode, no graph), the blocks
            run over row bands of about this many pixels (at least 64 rows),
            spread over ``torch.get_num_threads()`` threads, so their wide
            intermediate tensors never exist at full resolution; the output
            is the same. 0 turns this off. Defaults to 32768.
        init_cfg (dict | list[dict], optional): mmengine init config.
            Defaults to None (PyTorch default initialisation, as official).
    """

    def __init__(self,
                 dim: int = 16,
                 num_blocks: int = 2,
                 num_heads: int = 8,
                 ffn_expansion_factor: float = 2,
                 bias: bool = False,
                 negative_slope: float = 0.01,
                 band_pixels: int = 32768,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)

        self.project_in_1 = nn.Conv2d(1, dim, 3, padding=1, bias=bias)
        self.project_in_2 = nn.Conv2d(1, dim, 3, padding=1, bias=bias)
        block_args = (num_heads, ffn_expansion_factor, bias, band_pixels)
        self.encoder1 = transformer_blocks(num_blocks, dim, *block_args)
        self.encoder2 = transformer_blocks(num_blocks, dim, *block_args)
        self.FM = CrossModalFusion(dim, num_heads, bias, band_pixels)
        self.decoder = transformer_blocks(num_blocks, dim * 2, *block_args)
        self.project_out_0 = nn.Conv2d(dim * 2, dim, 3, padding=1, bias=bias)
        self.act = nn.LeakyReLU(negative_slope)
        self.project_out_1 = nn.Conv2d(dim, 1, 3, padding=1, bias=bias)

    def forward(self, ir: torch.Tensor, vis_y: torch.Tensor) -> torch.Tensor:
        """Fuse an infrared and a visible luma image.

        Args:
            ir (Tensor): Infrared, (B, 1, H, W), values in [0, 1].
            vis_y (Tensor): Visible luma (Y), (B, 1, H, W), values in [0, 1].

        Returns:
            Tensor: Fused image, (B, 1, H, W), values in (0, 1).
        """
        check_luma_pair(ir, vis_y)
        # Channels-last memory: 2-3x faster convolutions on CPU (oneDNN), and
        # the channel layer norm becomes one contiguous reduction.
        cl = torch.channels_last
        x1 = self.encoder1(self.project_in_1(ir).contiguous(memory_format=cl))
        x2 = self.encoder2(
            self.project_in_2(vis_y).contiguous(memory_format=cl))
        out = self.decoder(self.FM(x1, x2))
        out = self.project_out_1(self.act(self.project_out_0(out)))
        return torch.sigmoid(out).contiguous()
