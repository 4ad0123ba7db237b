"""How the blocks of :mod:`.restormer` and :mod:`.cross_modal_fusion` are
computed fast; what they compute is said there.

* Channel attention from Gram sums: ``softmax(norm(q) norm(k)^T * t)`` per
  head needs only ``q k^T``, ``q q^T`` and ``k k^T``, so no normalised
  copies of q and k are made (and the sums can be taken band by band, see
  :mod:`.banded_forward`).
* The 1x1 output projection is folded into the attention matrix: one
  (C x C) channel mix of v, the attended values are never materialised.
* q, k, v (and the two GDFN halves) come from slices of the convolution
  weights: contiguous outputs instead of strided chunks of one wide tensor.
* Fresh temporaries are updated in place when no graph is recorded.

The results equal the plain formulas (``tdfusion_mm.testing.eager_reference``)
to float rounding, with gradients of any order in training.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .row_banding import conv2d

__all__ = [
    'inplace_ok', 'add_residual', 'pointwise', 'pointwise_depthwise',
    'gelu_gate', 'gram_terms', 'attention_from_terms', 'channel_attention',
    'projection_mix', 'apply_mix', 'project_attended'
]


def inplace_ok(*tensors: torch.Tensor) -> bool:
    """True when in-place updates of fresh temporaries cannot break autograd.

    In-place arithmetic is used only when no graph is being recorded (no-grad
    or inference mode, e.g. fusion at test time); training, including the
    meta step, takes the out-of-place path.
    """
    return not torch.is_grad_enabled() or not any(
        t.requires_grad for t in tensors)


def add_residual(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``x + y``, written into ``y`` (a fresh temporary) when allowed."""
    return y.add_(x) if inplace_ok(x, y) else x + y


def pointwise(x: torch.Tensor, conv: nn.Conv2d, start: int = 0,
              stop: Optional[int] = None) -> torch.Tensor:
    """Output channels ``start:stop`` of the 1x1 ``conv`` applied to ``x``."""
    bias = None if conv.bias is None else conv.bias[start:stop]
    return conv2d(x, conv.weight[start:stop], bias)


def pointwise_depthwise(x: torch.Tensor, pw: nn.Conv2d, dw: nn.Conv2d,
                        start: int, stop: int) -> torch.Tensor:
    """Channels ``start:stop`` of ``dw(pw(x))`` without computing the rest.

    Slicing the weights gives contiguous outputs for each of q/k/v or each
    GDFN half, instead of strided chunks of one wide tensor.
    """
    bias = None if dw.bias is None else dw.bias[start:stop]
    return conv2d(pointwise(x, pw, start, stop), dw.weight[start:stop], bias,
                  padding=1, groups=stop - start)


def gelu_gate(gate: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """``gelu(gate) * value``, in place when no graph is recorded."""
    if inplace_ok(gate, value):
        return F.gelu(gate).mul_(value)
    return F.gelu(gate) * value


def gram_terms(q: torch.Tensor, k: torch.Tensor) -> list:
    """``[q k^T, q q^T, k k^T]`` over the flattened spatial axis, (B, C, C).

    These sums over positions are all the attention needs from q and k, so
    they can be accumulated over row bands of the image. Under autocast
    they are float32.
    """
    b, c = q.shape[:2]
    device = q.device.type
    if torch.is_autocast_enabled(device):
        # Autocast would run the GEMMs in float16, whose range (65504) the
        # sums over all positions exceed: ReFusion fused NaN at 480x640.
        with torch.autocast(device, enabled=False):
            return gram_terms(q.float(), k.float())
    # Three small (C x HW) @ (HW x C) GEMMs; on channels-last tensors these
    # read the data in place (no strided per-head copies or reductions).
    q = q.reshape(b, c, -1)
    k = k.reshape(b, c, -1)
    return [torch.bmm(q, k.transpose(1, 2)), torch.bmm(q, q.transpose(1, 2)),
            torch.bmm(k, k.transpose(1, 2))]


def attention_from_terms(terms: list, temperature: torch.Tensor,
                         num_heads: int) -> torch.Tensor:
    """Per-head ``softmax(norm(q) norm(k)^T * t)`` from :func:`gram_terms`.

    Same value as normalising q and k along the spatial axis first: the Gram
    matrix of the raw q, k is divided by the outer product of their norms
    (both clamped at 1e-12 like ``F.normalize``). Shape (B, heads, c, c).
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


def channel_attention(q: torch.Tensor, k: torch.Tensor,
                      temperature: torch.Tensor,
                      num_heads: int) -> torch.Tensor:
    """Per-head ``softmax(norm(q) norm(k)^T * t)``, (B, heads, c, c)."""
    return attention_from_terms(gram_terms(q, k), temperature, num_heads)


def projection_mix(attn: torch.Tensor, proj: nn.Conv2d) -> torch.Tensor:
    """The 1x1 ``proj`` folded into the block-diagonal ``attn``: (B, C, C).

    ``proj(blockdiag(attn) @ v)`` is then one (C x C) channel mix of v, so
    the attended values are never materialised.
    """
    heads, ch = attn.shape[1], attn.shape[2]
    c = heads * ch
    weight = proj.weight.reshape(c, heads, ch)
    return torch.einsum('ohi,bhij->bohj', weight, attn).reshape(-1, c, c)


def apply_mix(mix: torch.Tensor, v: torch.Tensor,
              bias: Optional[torch.Tensor]) -> torch.Tensor:
    """``mix @ v`` over channels plus ``bias``, keeping ``v``'s layout."""
    b, c, h, w = v.shape
    if v.is_contiguous(memory_format=torch.channels_last) and c > 1:
        vt = v.permute(0, 2, 3, 1).reshape(b, h * w, c)
        out = torch.bmm(vt, mix.transpose(1, 2)).reshape(b, h, w, c)
        out = out.permute(0, 3, 1, 2)
    else:
        out = torch.bmm(mix, v.reshape(b, c, h * w)).reshape(b, c, h, w)
    if bias is not None:
        out = out + bias[:, None, None]
    return out


def project_attended(attn: torch.Tensor, v: torch.Tensor,
                     proj: nn.Conv2d) -> torch.Tensor:
    """``proj(attn @ v)``, per head, computed as one channel mix of v."""
    return apply_mix(projection_mix(attn, proj), v, proj.bias)
