"""Restormer-style building blocks shared by the TDFusion networks.

The blocks follow the layout of the official TDFusion code
(``nets/ReFusion.py`` of HaowenBai/TDFusion), which reuses Restormer's
transposed attention (MDTA) and gated-dconv feed-forward network (GDFN).
Attribute names mirror the official ones so that state-dict keys match the
official checkpoints after their ``<conv>.conv.weight`` aliases are dropped
(see :mod:`tdfusion_mm.models.fusion_backbones.official_checkpoint`).

Everything is a plain ``nn.Module`` holding ordinary parameters, so the
networks work with ``torch.func.functional_call`` for the virtual (meta)
step of TDFusion.

All convolutions are stride 1 with 'same' padding and the attention mixes
channels, not positions, so every block accepts any spatial size.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    'WithBiasLayerNorm', 'BiasFreeLayerNorm', 'LayerNorm', 'MDTA', 'GDFN',
    'TransformerBlock', 'CrossModalFusion', 'transposed_attention'
]


def transposed_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                         temperature: torch.Tensor,
                         num_heads: int) -> torch.Tensor:
    """Channel ("transposed") attention of Restormer's MDTA.

    Queries and keys are L2-normalised along the flattened spatial axis, the
    per-head (C/heads x C/heads) similarity is scaled by a learnable
    temperature and soft-maxed, then applied to the values.

    Args:
        q (Tensor): Queries, shape (B, C, H, W).
        k (Tensor): Keys, shape (B, C, H, W).
        v (Tensor): Values, shape (B, C, H, W).
        temperature (Tensor): Per-head scale, shape (num_heads, 1, 1).
        num_heads (int): Number of heads; must divide C.

    Returns:
        Tensor: Attended values, shape (B, C, H, W).
    """
    b, c, h, w = v.shape
    shape = (b, num_heads, c // num_heads, h * w)
    # Chunks along the channel axis stay viewable, so these are no-copy views.
    q = F.normalize(q.reshape(shape), dim=-1)
    k = F.normalize(k.reshape(shape), dim=-1)
    attn = (q @ k.transpose(-2, -1)) * temperature
    out = attn.softmax(dim=-1) @ v.reshape(shape)
    return out.reshape(b, c, h, w)


class WithBiasLayerNorm(nn.Module):
    """Layer norm over the channel axis of an NCHW tensor, with bias.

    Same statistics as the official ``WithBias_LayerNorm`` (biased variance,
    eps 1e-5 inside the square root), computed in place along dim 1 instead
    of after a (B, HW, C) rearrangement.

    Args:
        num_channels (int): Number of channels C.
        eps (float): Added to the variance. Defaults to 1e-5.
    """

    def __init__(self, num_channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` (B, C, H, W) over C."""
        x = x - x.mean(dim=1, keepdim=True)
        var = x.square().mean(dim=1, keepdim=True)  # biased, as official
        return torch.addcmul(self.bias[:, None, None],
                             x * torch.rsqrt(var + self.eps),
                             self.weight[:, None, None])


class BiasFreeLayerNorm(nn.Module):
    """Restormer's bias-free layer norm over the channel axis (NCHW).

    The input is divided by its standard deviation but not centred. Not used
    by the official TDFusion networks; kept for Restormer-style variants.

    Args:
        num_channels (int): Number of channels C.
        eps (float): Added to the variance. Defaults to 1e-5.
    """

    def __init__(self, num_channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scale ``x`` (B, C, H, W) by its inverse std over C."""
        var = x.var(dim=1, keepdim=True, unbiased=False)
        return x * torch.rsqrt(var + self.eps) * self.weight[:, None, None]


class LayerNorm(nn.Module):
    """Channel layer norm wrapper; its ``body`` holds the parameters.

    The ``body`` child reproduces the official key layout
    (``norm1.body.weight``, ``norm1.body.bias``).

    Args:
        dim (int): Number of channels.
        norm_type (str): ``'WithBias'`` (official) or ``'BiasFree'``.
    """

    def __init__(self, dim: int, norm_type: str = 'WithBias') -> None:
        super().__init__()
        if norm_type == 'WithBias':
            self.body = WithBiasLayerNorm(dim)
        elif norm_type == 'BiasFree':
            self.body = BiasFreeLayerNorm(dim)
        else:
            raise ValueError(f'unknown norm_type {norm_type!r}, expected '
                             "'WithBias' or 'BiasFree'")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` (B, C, H, W) over C."""
        return self.body(x)


class MDTA(nn.Module):
    """Multi-Dconv-head Transposed Attention (Restormer).

    1x1 conv to q, k, v, a 3x3 depthwise conv, channel attention per head,
    and a 1x1 output projection.

    Args:
        dim (int): Number of channels.
        num_heads (int): Number of heads; must divide ``dim``.
        bias (bool): Whether the convolutions have a bias. Defaults to False.
    """

    def __init__(self, dim: int, num_heads: int, bias: bool = False) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads '
                             f'{num_heads}')
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(
            dim * 3, dim * 3, 3, padding=1, groups=dim * 3, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Self-attention across channels of ``x`` (B, C, H, W)."""
        q, k, v = self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1)
        out = transposed_attention(q, k, v, self.temperature, self.num_heads)
        return self.project_out(out)


class GDFN(nn.Module):
    """Gated-Dconv Feed-forward Network (Restormer).

    1x1 conv to ``2 * hidden`` channels, 3x3 depthwise conv, split into two
    halves, ``gelu(a) * b``, 1x1 conv back to ``dim``.

    Args:
        dim (int): Number of channels.
        ffn_expansion_factor (float): ``hidden = int(dim * factor)``.
        bias (bool): Whether the convolutions have a bias. Defaults to False.
    """

    def __init__(self, dim: int, ffn_expansion_factor: float = 2,
                 bias: bool = False) -> None:
        super().__init__()
        hidden = int(dim * ffn_expansion_factor)
        self.project_in = nn.Conv2d(dim, hidden * 2, 1, bias=bias)
        self.dwconv = nn.Conv2d(
            hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2,
            bias=bias)
        self.project_out = nn.Conv2d(hidden, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gated feed-forward of ``x`` (B, C, H, W)."""
        a, b = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(a) * b)


class TransformerBlock(nn.Module):
    """Pre-norm Restormer block: ``x + MDTA(LN(x))`` then ``x + GDFN(LN(x))``.

    Args:
        dim (int): Number of channels.
        num_heads (int): Attention heads.
        ffn_expansion_factor (float): GDFN expansion. Defaults to 2.
        bias (bool): Convolution bias. Defaults to False.
        norm_type (str): ``'WithBias'`` or ``'BiasFree'``. Defaults to
            ``'WithBias'``.
    """

    def __init__(self, dim: int, num_heads: int,
                 ffn_expansion_factor: float = 2, bias: bool = False,
                 norm_type: str = 'WithBias') -> None:
        super().__init__()
        self.norm1 = LayerNorm(dim, norm_type)
        self.attn = MDTA(dim, num_heads, bias)
        self.norm2 = LayerNorm(dim, norm_type)
        self.ffn = GDFN(dim, ffn_expansion_factor, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to ``x`` (B, C, H, W)."""
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class CrossModalFusion(nn.Module):
    """Cross-modal attention fusion block (the official ``AFM``).

    Data flow, with branch features ``x1`` (infrared) and ``x2`` (visible),
    each (B, dim, H, W):

    1. Each branch gets q, k, v from a 1x1 conv and a 3x3 depthwise conv.
    2. Cross attention: branch 1 is updated with ``softmax(q2 k1^T * t1) v1``
       and branch 2 with ``softmax(q1 k2^T * t2) v2`` (queries from the other
       modality), each through a 1x1 projection and a residual.
    3. ``out = cat(x1, x2)`` (2 * dim channels); a 1x1 + depthwise 3x3 conv
       of ``out`` gives two gates; each branch is expanded to 4 * dim
       channels (1x1 + depthwise 3x3), gated by ``gelu(gate)`` and projected
       to 2 * dim channels.
    4. Return ``out`` plus both projected branches (B, 2 * dim, H, W).

    Args:
        dim (int): Channels of each branch. Defaults to 16.
        num_heads (int): Attention heads. Defaults to 8.
        bias (bool): Convolution bias. Defaults to False.
    """

    def __init__(self, dim: int = 16, num_heads: int = 8,
                 bias: bool = False) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads '
                             f'{num_heads}')
        self.num_heads = num_heads
        self.temperature1 = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.temperature2 = nn.Parameter(torch.ones(num_heads, 1, 1))

        def pw(cin, cout):
            return nn.Conv2d(cin, cout, 1, bias=bias)

        def dw(c):
            return nn.Conv2d(c, c, 3, padding=1, groups=c, bias=bias)

        self.qkv1 = pw(dim, dim * 3)
        self.qkv1_dwconv = dw(dim * 3)
        self.qkv2 = pw(dim, dim * 3)
        self.qkv2_dwconv = dw(dim * 3)
        self.project_mid1 = pw(dim, dim)
        self.project_mid2 = pw(dim, dim)
        self.project_E = pw(dim * 2, dim * 8)
        self.project_E_d = dw(dim * 8)
        self.project_E1 = pw(dim, dim * 4)
        self.project_E1_d = dw(dim * 4)
        self.project_E2 = pw(dim, dim * 4)
        self.project_E2_d = dw(dim * 4)
        self.project_out1 = pw(dim * 4, dim * 2)
        self.project_out2 = pw(dim * 4, dim * 2)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """Fuse branch features ``x1``, ``x2`` into (B, 2 * dim, H, W)."""
        q1, k1, v1 = self.qkv1_dwconv(self.qkv1(x1)).chunk(3, dim=1)
        q2, k2, v2 = self.qkv2_dwconv(self.qkv2(x2)).chunk(3, dim=1)
        heads = self.num_heads
        x1 = x1 + self.project_mid1(
            transposed_attention(q2, k1, v1, self.temperature1, heads))
        x2 = x2 + self.project_mid2(
            transposed_attention(q1, k2, v2, self.temperature2, heads))
        out = torch.cat([x1, x2], dim=1)
        g1, g2 = self.project_E_d(self.project_E(out)).chunk(2, dim=1)
        y1 = F.gelu(g1) * self.project_E1_d(self.project_E1(x1))
        y2 = F.gelu(g2) * self.project_E2_d(self.project_E2(x2))
        return out + self.project_out1(y1) + self.project_out2(y2)
