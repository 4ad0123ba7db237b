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
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    'WithBiasLayerNorm', 'BiasFreeLayerNorm', 'LayerNorm', 'MDTA', 'GDFN',
    'TransformerBlock', 'CrossModalFusion'
]


def _inplace_ok(*tensors: torch.Tensor) -> bool:
    """True when in-place updates of fresh temporaries cannot break autograd.

    In-place arithmetic is used only when no graph is being recorded (no-grad
    or inference mode, e.g. fusion at test time); training, including the
    meta step, takes the out-of-place path.
    """
    return not torch.is_grad_enabled() or not any(
        t.requires_grad for t in tensors)


def _gram_terms(q: torch.Tensor, k: torch.Tensor) -> list:
    """``[q k^T, q q^T, k k^T]`` over the flattened spatial axis, (B, C, C).

    These sums over positions are all the attention needs from q and k, so
    they can be accumulated over row bands of the image.
    """
    b, c = q.shape[:2]
    # Three small (C x HW) @ (HW x C) GEMMs; on channels-last tensors these
    # read the data in place (no strided per-head copies or reductions).
    q = q.reshape(b, c, -1)
    k = k.reshape(b, c, -1)
    return [q @ k.transpose(1, 2), q @ q.transpose(1, 2),
            k @ k.transpose(1, 2)]


def _attention_from_terms(terms: list, temperature: torch.Tensor,
                          num_heads: int) -> torch.Tensor:
    """Per-head ``softmax(norm(q) norm(k)^T * t)`` from :func:`_gram_terms`.

    Same value as normalising q and k along the spatial axis first, but
    without the two full-resolution normalised copies: the Gram matrix of the
    raw q, k is divided by the outer product of their norms (both clamped at
    1e-12 like ``F.normalize``). Shape (B, heads, c, c).
    """
    qk, qq, kk = terms
    c = qk.shape[-1]
    ch = c // num_heads

    def heads(m):  # diagonal (ch x ch) blocks: (B, C, C) -> (B, heads, ch, ch)
        m = m.reshape(-1, num_heads, ch, num_heads, ch)
        return torch.stack([m[:, h, :, h] for h in range(num_heads)], dim=1)

    gram = heads(qk)
    # squared norms = diagonals of q q^T and k k^T (plain slicing, so that
    # the function also exports to ONNX)
    nq = torch.diagonal(heads(qq), dim1=-2, dim2=-1)
    nk = torch.diagonal(heads(kk), dim1=-2, dim2=-1)
    # max(sqrt(s), 1e-12) == sqrt(max(s, 1e-24)), with a finite gradient at 0
    nq = nq.clamp_min(1e-24).sqrt()
    nk = nk.clamp_min(1e-24).sqrt()
    attn = gram / (nq[..., :, None] * nk[..., None, :]) * temperature
    return attn.softmax(dim=-1)


def _projection_mix(attn: torch.Tensor, proj: nn.Conv2d) -> torch.Tensor:
    """The 1x1 ``proj`` folded into the block-diagonal ``attn``: (B, C, C).

    ``proj(blockdiag(attn) @ v)`` is then one (C x C) channel mix of v, so
    the attended values are never materialised.
    """
    heads, ch = attn.shape[1], attn.shape[2]
    c = heads * ch
    weight = proj.weight.reshape(c, heads, ch)
    return torch.einsum('ohi,bhij->bohj', weight, attn).reshape(-1, c, c)


def _apply_mix(mix: torch.Tensor, v: torch.Tensor,
               bias: Optional[torch.Tensor]) -> torch.Tensor:
    """``mix @ v`` over channels plus ``bias``, keeping ``v``'s layout."""
    b, c, h, w = v.shape
    if v.is_contiguous(memory_format=torch.channels_last) and c > 1:
        vt = v.permute(0, 2, 3, 1).reshape(b, h * w, c)
        out = (vt @ mix.transpose(1, 2)).reshape(b, h, w, c)
        out = out.permute(0, 3, 1, 2)
    else:
        out = (mix @ v.reshape(b, c, h * w)).reshape(b, c, h, w)
    if bias is not None:
        out = out + bias[:, None, None]
    return out


# Fewest rows per band: each band costs a fixed overhead (two halo rows and
# a few dozen operator calls), so a tiny ``band_pixels`` must not make
# inference thousands of times slower (one-row bands: 547 s at 480x640).
MIN_BAND_ROWS = 16


def _row_bands(module: nn.Module, x: torch.Tensor) -> list:
    """Row ranges ``(r0, r1)`` for running ``module`` on ``x`` in bands.

    Bands are for inference: ``module`` in eval mode, no graph recorded, and
    more than ``module.band_pixels`` pixels per image. Otherwise the result
    is empty and the caller takes its whole-image path (in training, banding
    measured a few percent slower and memory is set by the graph anyway).
    A band has at least :data:`MIN_BAND_ROWS` rows.
    """
    h, w = x.shape[-2:]
    band_pixels = module.band_pixels
    if (band_pixels <= 0 or module.training or torch.is_grad_enabled()
            or h * w <= band_pixels):
        return []
    rows = max(MIN_BAND_ROWS, band_pixels // w)
    if rows >= h:
        return []
    return [(r, min(r + rows, h)) for r in range(0, h, rows)]


_POOL: Optional[ThreadPoolExecutor] = None
_POOL_LOCK = threading.Lock()


def _map_bands(fn: Callable, bands: list) -> list:
    """``[fn(band) for band in bands]``, the bands spread over threads.

    Each band is a chain of small operations. Run one after the other with
    PyTorch's intra-op threads, every operation is a parallel region whose
    threads must all arrive at its barrier: on a loaded machine one
    descheduled thread stalls them all, many times per band. Instead each
    of ``torch.get_num_threads()`` Python threads (PyTorch releases the GIL)
    runs whole bands single-threaded, and the caller's thread count is
    restored afterwards. The results keep the order of ``bands``. Bands
    run without a graph (grad modes are per thread: set again in each).
    """
    global _POOL
    threads = min(torch.get_num_threads(), len(bands))
    if threads <= 1:
        return [fn(band) for band in bands]
    no_graph = torch.inference_mode if torch.is_inference_mode_enabled() \
        else torch.no_grad

    def single_threaded(band):
        torch.set_num_threads(1)
        with no_graph():
            return fn(band)

    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < threads:
            _POOL = ThreadPoolExecutor(threads,
                                       thread_name_prefix='row-bands')
        pool = _POOL
    try:
        return list(pool.map(single_threaded, bands))
    finally:
        torch.set_num_threads(threads)


def _sum_terms(terms: List[list]) -> list:
    """Sum the bands' :func:`_gram_terms`, in band order."""
    total = [t.clone() for t in terms[0]]
    for band in terms[1:]:
        for t, u in zip(total, band):
            t.add_(u)
    return total


def _with_halo(x: torch.Tensor, r0: int, r1: int):
    """Rows ``r0 - 1 .. r1`` of ``x`` (clipped at the image) and a slice.

    A stride-1 pipeline of 1x1 convolutions, per-position ops and one 3x3
    convolution, run on the returned rows, is exact on rows ``r0:r1``; the
    slice picks those rows out of its output (the halo rows are wrong).
    """
    top = max(r0 - 1, 0)
    band = x[:, :, top:min(r1 + 1, x.shape[2])]
    return band, slice(r0 - top, r0 - top + r1 - r0)


def _add_into(out: torch.Tensor, r0: int, r1: int, a: torch.Tensor,
              b: torch.Tensor) -> None:
    """Write ``a + b`` into rows ``r0:r1`` of ``out``."""
    torch.add(a, b, out=out[:, :, r0:r1])


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
        self.num_channels = num_channels  # a constant when traced (ONNX)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` (B, C, H, W) over C."""
        # One fused pass over the channel axis: in channels-last memory the
        # permuted view is contiguous, so no temporaries are made.
        out = F.layer_norm(x.permute(0, 2, 3, 1), (self.num_channels, ),
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

    def qkv_part(self, x: torch.Tensor, part: int) -> torch.Tensor:
        """q (``part`` 0), k (1) or v (2) of ``x``: 1x1 then 3x3 depthwise."""
        d = self.dim
        return _pw_dw(x, self.qkv, self.qkv_dwconv, part * d, (part + 1) * d)

    def mix(self, terms: list) -> torch.Tensor:
        """Attention and output projection as one (B, C, C) mix of v."""
        attn = _attention_from_terms(terms, self.temperature, self.num_heads)
        return _projection_mix(attn, self.project_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Self-attention across channels of ``x`` (B, C, H, W)."""
        mix = self.mix(_gram_terms(self.qkv_part(x, 0), self.qkv_part(x, 1)))
        return _apply_mix(mix, self.qkv_part(x, 2), self.project_out.bias)


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

    In inference (eval mode, no graph recorded) on images of more than
    ``band_pixels`` pixels, the block runs image by image over row bands:
    the attention's Gram sums are accumulated band by band, then values and
    the feed-forward are computed per band with a one-row halo. Only the
    block's input, its attention output and its result are full-resolution
    tensors; the wide ones (q, k, v, the feed-forward's hidden channels)
    exist one band at a time.

    Args:
        dim (int): Number of channels.
        num_heads (int): Attention heads.
        ffn_expansion_factor (float): GDFN expansion. Defaults to 2.
        bias (bool): Convolution bias. Defaults to False.
        norm_type (str): ``'WithBias'`` or ``'BiasFree'``. Defaults to
            ``'WithBias'``.
        band_pixels (int): Pixels per band in inference; 0 turns banding
            off. Defaults to 32768.
    """

    def __init__(self, dim: int, num_heads: int,
                 ffn_expansion_factor: float = 2, bias: bool = False,
                 norm_type: str = 'WithBias',
                 band_pixels: int = 32768) -> None:
        super().__init__()
        self.norm1 = LayerNorm(dim, norm_type)
        self.attn = MDTA(dim, num_heads, bias)
        self.norm2 = LayerNorm(dim, norm_type)
        self.ffn = GDFN(dim, ffn_expansion_factor, bias)
        self.band_pixels = band_pixels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to ``x`` (B, C, H, W)."""
        bands = _row_bands(self, x)
        if bands:
            return torch.cat([self._forward_bands(x[i:i + 1], bands)
                              for i in range(x.shape[0])])
        y = self.attn(self.norm1(x))
        if _inplace_ok(x, y):
            x = y.add_(x)  # y is a fresh temporary; the input is untouched
            return self.ffn(self.norm2(x)).add_(x)
        x = x + y
        return x + self.ffn(self.norm2(x))

    def _forward_bands(self, x: torch.Tensor, bands: list) -> torch.Tensor:
        """The same function, computed over row bands (no graph)."""

        def gram(band):
            z, rows = _with_halo(x, *band)
            z = self.norm1(z)
            return _gram_terms(self.attn.qkv_part(z, 0)[:, :, rows],
                               self.attn.qkv_part(z, 1)[:, :, rows])

        mix = self.attn.mix(_sum_terms(_map_bands(gram, bands)))
        x1 = torch.empty_like(x)

        def attend(band):
            z, rows = _with_halo(x, *band)
            v = self.attn.qkv_part(self.norm1(z), 2)[:, :, rows]
            _add_into(x1, *band, x[:, :, band[0]:band[1]],
                      _apply_mix(mix, v, self.attn.project_out.bias))

        _map_bands(attend, bands)
        out = torch.empty_like(x)

        def feed_forward(band):
            z, rows = _with_halo(x1, *band)
            _add_into(out, *band, x1[:, :, band[0]:band[1]],
                      self.ffn(self.norm2(z))[:, :, rows])

        _map_bands(feed_forward, bands)
        return out


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
        band_pixels (int): Pixels per row band in inference, as in
            :class:`TransformerBlock`; 0 turns banding off. Defaults to 32768.
    """

    def __init__(self, dim: int = 16, num_heads: int = 8,
                 bias: bool = False, band_pixels: int = 32768) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads '
                             f'{num_heads}')
        self.dim = dim
        self.num_heads = num_heads
        self.band_pixels = band_pixels
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

    def _qkv(self, x: torch.Tensor, branch: int, part: int) -> torch.Tensor:
        """q (``part`` 0), k (1) or v (2) of branch 1 or 2."""
        pw, dw = ((self.qkv1, self.qkv1_dwconv) if branch == 1 else
                  (self.qkv2, self.qkv2_dwconv))
        return _pw_dw(x, pw, dw, part * self.dim, (part + 1) * self.dim)

    def _mixes(self, terms1: list, terms2: list) -> tuple:
        """Each branch's attention and projection as one (B, C, C) mix."""
        heads = self.num_heads
        attn1 = _attention_from_terms(terms1, self.temperature1, heads)
        attn2 = _attention_from_terms(terms2, self.temperature2, heads)
        return (_projection_mix(attn1, self.project_mid1),
                _projection_mix(attn2, self.project_mid2))

    def _expansions(self, out: torch.Tensor, x1: torch.Tensor,
                    x2: torch.Tensor) -> torch.Tensor:
        """Both gated, expanded and projected branches, summed (step 3)."""
        e = self.project_E.weight.shape[0] // 2
        y1 = _gated(_pw_dw(out, self.project_E, self.project_E_d, 0, e),
                    _pw_dw(x1, self.project_E1, self.project_E1_d, 0, 4 *
                           self.dim))
        y1 = self.project_out1(y1)
        y2 = _gated(_pw_dw(out, self.project_E, self.project_E_d, e, 2 * e),
                    _pw_dw(x2, self.project_E2, self.project_E2_d, 0, 4 *
                           self.dim))
        y2 = self.project_out2(y2)
        return y1.add_(y2) if _inplace_ok(y1, y2) else y1 + y2

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """Fuse branch features ``x1``, ``x2`` into (B, 2 * dim, H, W)."""
        bands = _row_bands(self, x1)
        if bands:
            return torch.cat([
                self._forward_bands(x1[i:i + 1], x2[i:i + 1], bands)
                for i in range(x1.shape[0])
            ])
        q1, k1 = self._qkv(x1, 1, 0), self._qkv(x1, 1, 1)
        q2, k2 = self._qkv(x2, 2, 0), self._qkv(x2, 2, 1)
        mix1, mix2 = self._mixes(_gram_terms(q2, k1), _gram_terms(q1, k2))
        del q1, k1, q2, k2
        x1 = x1 + _apply_mix(mix1, self._qkv(x1, 1, 2),
                             self.project_mid1.bias)
        x2 = x2 + _apply_mix(mix2, self._qkv(x2, 2, 2),
                             self.project_mid2.bias)
        out = torch.cat([x1, x2], dim=1)
        y = self._expansions(out, x1, x2)
        return y.add_(out) if _inplace_ok(y, out) else out + y

    def _forward_bands(self, x1: torch.Tensor, x2: torch.Tensor,
                       bands: list) -> torch.Tensor:
        """The same function over row bands (no graph), as in the blocks."""

        def grams(band):
            z1, rows = _with_halo(x1, *band)
            z2, _ = _with_halo(x2, *band)
            q1, k1 = (self._qkv(z1, 1, p)[:, :, rows] for p in (0, 1))
            q2, k2 = (self._qkv(z2, 2, p)[:, :, rows] for p in (0, 1))
            return _gram_terms(q2, k1) + _gram_terms(q1, k2)

        terms = _sum_terms(_map_bands(grams, bands))
        mixes = self._mixes(terms[:3], terms[3:])
        biases = self.project_mid1.bias, self.project_mid2.bias
        attended = torch.empty_like(x1), torch.empty_like(x2)

        def attend(band):
            for branch, x in enumerate((x1, x2)):
                z, rows = _with_halo(x, *band)
                v = self._qkv(z, branch + 1, 2)[:, :, rows]
                _add_into(attended[branch], *band, x[:, :, band[0]:band[1]],
                          _apply_mix(mixes[branch], v, biases[branch]))

        _map_bands(attend, bands)
        y1, y2 = attended
        out = torch.cat([y1, y2], dim=1)
        result = torch.empty_like(out)

        def expand(band):
            zo, rows = _with_halo(out, *band)
            y = self._expansions(zo, _with_halo(y1, *band)[0],
                                 _with_halo(y2, *band)[0])
            _add_into(result, *band, out[:, :, band[0]:band[1]],
                      y[:, :, rows])

        _map_bands(expand, bands)
        return result
