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


def _inplace_ok(*tensors: torch.Tensor) -> bool:
    """True when in-place updates of fresh temporaries cannot break autograd.

    In-place arithmetic is used only when no graph is being recorded (no-grad
    or inference mode, e.g. fusion at test time); training, including the
    double backward of the meta step, takes the out-of-place path.
    """
    return not torch.is_grad_enabled() or not any(
        t.requires_grad for t in tensors)


def _attention_matrix(q: torch.Tensor, k: torch.Tensor,
                      temperature: torch.Tensor,
                      num_heads: int) -> torch.Tensor:
    """Per-head ``softmax(norm(q) norm(k)^T * t)``, shape (B, heads, c, c).

    Same value as normalising q and k along the spatial axis first, but
    without the two full-resolution normalised copies: the Gram matrix of the
    raw q, k is divided by the outer product of their norms (both clamped at
    1e-12 like ``F.normalize``).
    """
    b, c = q.shape[:2]
    ch = c // num_heads
    # Three small (C x HW) @ (HW x C) GEMMs; on channels-last tensors these
    # read the data in place (no strided per-head copies or reductions).
    q = q.reshape(b, c, -1)
    k = k.reshape(b, c, -1)
    eye = torch.eye(c, dtype=torch.bool, device=q.device)

    def heads(m):  # diagonal (ch x ch) blocks: (B, C, C) -> (B, heads, ch, ch)
        m = m.reshape(b, num_heads, ch, num_heads, ch)
        return m.diagonal(dim1=1, dim2=3).permute(0, 3, 1, 2)

    gram = heads(q @ k.transpose(1, 2))
    # squared norms = diagonals of q q^T and k k^T
    nq = (q @ q.transpose(1, 2))[:, eye].reshape(b, num_heads, ch)
    nk = (k @ k.transpose(1, 2))[:, eye].reshape(b, num_heads, ch)
    # max(sqrt(s), 1e-12) == sqrt(max(s, 1e-24)), with a finite gradient at 0
    nq = nq.clamp_min(1e-24).sqrt()
    nk = nk.clamp_min(1e-24).sqrt()
    attn = gram / (nq[..., :, None] * nk[..., None, :]) * temperature
    return attn.softmax(dim=-1)


def _attend_and_project(attn: torch.Tensor, v: torch.Tensor,
                        proj: nn.Conv2d) -> torch.Tensor:
    """``proj(blockdiag(attn) @ v)`` as one (C x C) mix per sample.

    The 1x1 output projection is folded into the (block-diagonal) attention
    matrix, so the attended values are never materialised. The result keeps
    the memory format of ``v`` (channels-last in the fast path).
    """
    b, c, h, w = v.shape
    heads, ch = attn.shape[1], attn.shape[2]
    weight = proj.weight.reshape(c, heads, ch)
    mix = torch.einsum('ohi,bhij->bohj', weight, attn).reshape(b, c, c)
    if v.is_contiguous(memory_format=torch.channels_last) and c > 1:
        vt = v.permute(0, 2, 3, 1).reshape(b, h * w, c)
        out = (vt @ mix.transpose(1, 2)).reshape(b, h, w, c)
        out = out.permute(0, 3, 1, 2)
    else:
        out = (mix @ v.reshape(b, c, h * w)).reshape(b, c, h, w)
    if proj.bias is not None:
        out = out + proj.bias[:, None, None]
    return out


def _pw_dw(x: torch.Tensor, pw: nn.Conv2d, dw: nn.Conv2d, start: int,
           stop: int) -> torch.Tensor:
    """Channels ``start:stop`` of ``dw(pw(x))`` without computing the rest.

    Slicing the weights gives contiguous outputs for each of q/k/v or each
    GDFN half, instead of strided chunks of one wide tensor.
    """
    bias = None if pw.bias is None else pw.bias[start:stop]
    y = F.conv2d(x, pw.weight[start:stop], bias)
    bias = None if dw.bias is None else dw.bias[start:stop]
    return F.conv2d(y, dw.weight[start:stop], bias, padding=1,
                    groups=stop - start)


def _gated(gate: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """``gelu(gate) * value``, in place when no graph is recorded."""
    if _inplace_ok(gate, value):
        return F.gelu(gate).mul_(value)
    return F.gelu(gate) * value


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
    attn = _attention_matrix(q, k, temperature, num_heads)
    out = attn @ v.reshape(b, num_heads, c // num_heads, h * w)
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
        # One fused pass over the channel axis: in channels-last memory the
        # permuted view is contiguous, so no temporaries are made.
        out = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1], ),
                           self.weight, self.bias, self.eps)
        return out.permute(0, 3, 1, 2)


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
        self.dim = dim
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(
            dim * 3, dim * 3, 3, padding=1, groups=dim * 3, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Self-attention across channels of ``x`` (B, C, H, W)."""
        d = self.dim
        q = _pw_dw(x, self.qkv, self.qkv_dwconv, 0, d)
        k = _pw_dw(x, self.qkv, self.qkv_dwconv, d, 2 * d)
        attn = _attention_matrix(q, k, self.temperature, self.num_heads)
        del q, k
        v = _pw_dw(x, self.qkv, self.qkv_dwconv, 2 * d, 3 * d)
        return _attend_and_project(attn, v, self.project_out)


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
        self.hidden = hidden
        self.project_in = nn.Conv2d(dim, hidden * 2, 1, bias=bias)
        self.dwconv = nn.Conv2d(
            hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2,
            bias=bias)
        self.project_out = nn.Conv2d(hidden, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gated feed-forward of ``x`` (B, C, H, W)."""
        h = self.hidden
        a = _pw_dw(x, self.project_in, self.dwconv, 0, h)
        a = _gated(a, _pw_dw(x, self.project_in, self.dwconv, h, 2 * h))
        return self.project_out(a)


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
        y = self.attn(self.norm1(x))
        if _inplace_ok(x, y):
            x = y.add_(x)  # y is a fresh temporary; the input is untouched
            return self.ffn(self.norm2(x)).add_(x)
        x = x + y
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
        self.dim = dim
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
        d, heads = self.dim, self.num_heads
        q1 = _pw_dw(x1, self.qkv1, self.qkv1_dwconv, 0, d)
        k1 = _pw_dw(x1, self.qkv1, self.qkv1_dwconv, d, 2 * d)
        q2 = _pw_dw(x2, self.qkv2, self.qkv2_dwconv, 0, d)
        k2 = _pw_dw(x2, self.qkv2, self.qkv2_dwconv, d, 2 * d)
        attn1 = _attention_matrix(q2, k1, self.temperature1, heads)
        attn2 = _attention_matrix(q1, k2, self.temperature2, heads)
        del q1, k1, q2, k2
        v1 = _pw_dw(x1, self.qkv1, self.qkv1_dwconv, 2 * d, 3 * d)
        x1 = x1 + _attend_and_project(attn1, v1, self.project_mid1)
        del v1
        v2 = _pw_dw(x2, self.qkv2, self.qkv2_dwconv, 2 * d, 3 * d)
        x2 = x2 + _attend_and_project(attn2, v2, self.project_mid2)
        del v2
        out = torch.cat([x1, x2], dim=1)
        inplace = _inplace_ok(out)
        e = self.project_E.weight.shape[0] // 2
        y1 = _gated(_pw_dw(out, self.project_E, self.project_E_d, 0, e),
                    self.project_E1_d(self.project_E1(x1)))
        y1 = self.project_out1(y1)
        y2 = _gated(_pw_dw(out, self.project_E, self.project_E_d, e, 2 * e),
                    self.project_E2_d(self.project_E2(x2)))
        y2 = self.project_out2(y2)
        if inplace:
            return y1.add_(y2).add_(out)
        return out + y1 + y2
