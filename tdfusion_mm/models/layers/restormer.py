"""The Restormer block of the TDFusion networks, as in the paper.

Restormer (Zamir et al., CVPR 2022) builds a block from two residual steps,
each after a layer norm over channels:

* MDTA, multi-Dconv-head transposed attention: q, k, v from a 1x1 and a
  3x3 depthwise convolution; per head, the attention is a (c x c) matrix
  across channels, ``softmax(norm(q) norm(k)^T * temperature)`` with q and
  k normalised over positions, applied to v, then a 1x1 projection;
* GDFN, gated-Dconv feed-forward network: a 1x1 and a 3x3 depthwise
  convolution to two halves, ``gelu(a) * b``, a 1x1 projection back.

The layout and attribute names are those of the official TDFusion code
(``nets/ReFusion.py`` of HaowenBai/TDFusion), so state-dict keys match its
checkpoints once their ``<conv>.conv.weight`` aliases are dropped (see
:mod:`tdfusion_mm.models.fusion_backbones.official_checkpoint`). How the
steps are computed fast on CPU is in :mod:`.restormer_kernels` (attention
from Gram sums, in-place temporaries), :mod:`.row_banding` and
:mod:`.banded_forward` (row bands in inference).

Everything is a plain ``nn.Module`` holding ordinary parameters, so the
networks work with ``torch.func.functional_call`` for the virtual (meta)
step of TDFusion. All convolutions are stride 1 with 'same' padding and the
attention mixes channels, not positions: any spatial size works.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .banded_forward import transformer_block_banded
from .restormer_kernels import (add_residual, channel_attention, gelu_gate,
                                pointwise, pointwise_depthwise,
                                project_attended)
from .row_banding import row_bands

__all__ = [
    'WithBiasLayerNorm', 'LayerNorm', 'MDTA', 'GDFN',
    'TransformerBlock', 'transformer_blocks', 'check_heads'
]


def check_heads(dim: int, num_heads: int) -> None:
    """Raise ``ValueError`` unless ``num_heads`` divides ``dim``."""
    if dim % num_heads:
        raise ValueError(f'dim {dim} is not divisible by num_heads '
                         f'{num_heads}')


class WithBiasLayerNorm(nn.Module):
    """The usual layer norm over the channel axis (NCHW): centred, with bias.

    ``(x - mean(x)) / sqrt(var(x) + eps) * weight + bias`` over C, the
    statistics of the official ``WithBias_LayerNorm``.

    Args:
        num_channels (int): Number of channels C.
        eps (float): Added to the variance. Defaults to 1e-5.
    """

    def __init__(self, num_channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps
        self.num_channels = num_channels  # a constant when traced (ONNX)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` (B, C, H, W) over C."""
        # One fused pass along C: in channels-last memory the permuted view
        # is contiguous, so no temporaries are made.
        out = F.layer_norm(x.permute(0, 2, 3, 1), (self.num_channels, ),
                           self.weight, self.bias, self.eps)
        return out.permute(0, 3, 1, 2)


class LayerNorm(nn.Module):
    """Channel layer norm wrapper; its ``body`` holds the parameters.

    The ``body`` child reproduces the official key layout
    (``norm1.body.weight``, ``norm1.body.bias``).

    Args:
        dim (int): Number of channels.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.body = WithBiasLayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` (B, C, H, W) over C."""
        return self.body(x)


class MDTA(nn.Module):
    """Multi-Dconv-head Transposed Attention (Restormer).

    ``project_out(attn @ v)`` with, per head, the channel attention
    ``attn = softmax(norm(q) norm(k)^T * temperature)``; q, k, v from a 1x1
    conv (``qkv``) and a 3x3 depthwise conv (``qkv_dwconv``).

    Args:
        dim (int): Number of channels.
        num_heads (int): Number of heads; must divide ``dim``.
        bias (bool): Whether the convolutions have a bias. Defaults to False.
    """

    def __init__(self, dim: int, num_heads: int, bias: bool = False) -> None:
        super().__init__()
        check_heads(dim, num_heads)
        self.dim = dim
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(
            dim * 3, dim * 3, 3, padding=1, groups=dim * 3, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)

    def qkv_part(self, x: torch.Tensor, part: int) -> torch.Tensor:
        """q (``part`` 0), k (1) or v (2) of ``x``: 1x1 then 3x3 depthwise."""
        d = self.dim
        return pointwise_depthwise(x, self.qkv, self.qkv_dwconv, part * d,
                                   (part + 1) * d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Self-attention across channels of ``x`` (B, C, H, W)."""
        # q and k are used up before v is made: never all three at once.
        attn = channel_attention(self.qkv_part(x, 0), self.qkv_part(x, 1),
                                 self.temperature, self.num_heads)
        return project_attended(attn, self.qkv_part(x, 2), self.project_out)


class GDFN(nn.Module):
    """Gated-Dconv Feed-forward Network (Restormer).

    ``project_out(gelu(a) * b)``, where ``a`` and ``b`` are the two halves
    of a 1x1 conv to ``2 * hidden`` channels (``project_in``) followed by a
    3x3 depthwise conv (``dwconv``).

    Args:
        dim (int): Number of channels.
        ffn_expansion_factor (float): ``hidden = int(dim * factor)``.
        bias (bool): Whether the convolutions have a bias. Defaults to False.
    """

    def __init__(self, dim: int, ffn_expansion_factor: float = 2,
                 bias: bool = False) -> None:
        super().__init__()
        hidden = int(dim * ffn_expansion_factor)
        self.hidden = hidden
        self.project_in = nn.Conv2d(dim, hidden * 2, 1, bias=bias)
        self.dwconv = nn.Conv2d(
            hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2,
            bias=bias)
        self.project_out = nn.Conv2d(hidden, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor,
                rows: slice = slice(None)) -> torch.Tensor:
        """Gated feed-forward of ``x`` (B, C, H, W).

        With ``rows``, only those rows of the result: the gate and the
        projection skip the others (row bands' halo rows).
        """
        h = self.hidden
        a, b = (pointwise_depthwise(x, self.project_in, self.dwconv, start,
                                    start + h)[:, :, rows]
                for start in (0, h))
        return pointwise(gelu_gate(a, b), self.project_out)


class TransformerBlock(nn.Module):
    """Pre-norm Restormer block: ``x + MDTA(LN(x))`` then ``x + GDFN(LN(x))``.

    In inference (eval mode, no graph recorded) on images of more than
    ``band_pixels`` pixels, the same function is computed over row bands
    (:func:`.banded_forward.transformer_block_banded`), so that q, k, v and
    the feed-forward's hidden channels never exist at full resolution.

    Args:
        dim (int): Number of channels.
        num_heads (int): Attention heads.
        ffn_expansion_factor (float): GDFN expansion. Defaults to 2.
        bias (bool): Convolution bias. Defaults to False.
        band_pixels (int): Pixels per band in inference; 0 turns banding
            off. Defaults to 32768.
    """

    def __init__(self, dim: int, num_heads: int,
                 ffn_expansion_factor: float = 2, bias: bool = False,
                 band_pixels: int = 32768) -> None:
        super().__init__()
        self.norm1 = LayerNorm(dim)
        self.attn = MDTA(dim, num_heads, bias)
        self.norm2 = LayerNorm(dim)
        self.ffn = GDFN(dim, ffn_expansion_factor, bias)
        self.band_pixels = band_pixels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to ``x`` (B, C, H, W)."""
        bands = row_bands(self, x)
        if bands:
            return transformer_block_banded(self, x, bands)
        x = add_residual(x, self.attn(self.norm1(x)))
        return add_residual(x, self.ffn(self.norm2(x)))


def transformer_blocks(num_blocks: int, dim: int, num_heads: int,
                       ffn_expansion_factor: float = 2, bias: bool = False,
                       band_pixels: int = 32768) -> nn.Sequential:
    """``num_blocks`` :class:`TransformerBlock` s at ``dim`` channels, one
    after the other (state-dict keys ``<i>.norm1...``, as official)."""
    return nn.Sequential(*(
        TransformerBlock(dim, num_heads, ffn_expansion_factor, bias,
                         band_pixels) for _ in range(num_blocks)))
