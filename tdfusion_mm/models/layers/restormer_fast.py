"""How the blocks of :mod:`.restormer` and :mod:`.cross_modal_fusion` are
computed fast on CPU; what they compute is said there.

* Channel attention from Gram sums: ``softmax(norm(q) norm(k)^T * t)`` per
  head needs only ``q k^T``, ``q q^T`` and ``k k^T``, so no normalised
  copies of q and k are made.
* The 1x1 output projection is folded into the attention matrix: one
  (C x C) channel mix of v, the attended values are never materialised.
* q, k, v (and the two GDFN halves) come from slices of the convolution
  weights: contiguous outputs instead of strided chunks of one wide tensor.
* Fresh temporaries are updated in place when no graph is recorded.
* Row bands (inference only): a block runs image by image over bands of
  rows, with a one-row halo for the 3x3 convolutions; the attention's Gram
  sums are accumulated band by band. The wide tensors (q, k, hidden
  channels) then exist one band at a time, and the bands are spread over
  threads, single-threaded each, where convolutions call oneDNN directly
  (:func:`conv2d`).

The results equal the plain formulas (``tdfusion_mm.testing.eager_reference``)
to float rounding, with gradients of any order in training.
"""
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    'inplace_ok', 'add_residual', 'conv2d', 'pointwise', 'pointwise_depthwise',
    'gelu_gate',
    'gram_terms', 'attention_from_terms', 'channel_attention',
    'projection_mix', 'apply_mix', 'project_attended', 'MIN_BAND_ROWS',
    'row_bands', 'transformer_block_banded', 'cross_modal_fusion_banded'
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


_BAND_WORK = threading.local()  # ``active`` while a thread runs a band


def conv2d(x: torch.Tensor, weight: torch.Tensor,
           bias: Optional[torch.Tensor] = None, padding: int = 0,
           groups: int = 1) -> torch.Tensor:
    """``F.conv2d`` with stride 1; inside row bands on CPU, oneDNN directly.

    Bands run single-threaded, and on one thread PyTorch sends 1x1
    convolutions of batches under 16 to an im2col path instead of oneDNN:
    1.4-1.9x slower per convolution at 53x640 pixels, 16-64 channels. The
    direct call computes what the multi-threaded dispatch computes. Bands
    exist only in inference without a graph; everywhere else (training,
    forward-mode products, ONNX tracing) this is ``F.conv2d``.
    """
    if (getattr(_BAND_WORK, 'active', False) and x.device.type == 'cpu'
            and x.dtype == weight.dtype == torch.float32
            and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled):
        return torch.mkldnn_convolution(x, weight, bias, [padding, padding],
                                        [1, 1], [1, 1], groups)
    return F.conv2d(x, weight, bias, padding=padding, groups=groups)


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


# Fewest rows per band. Each band recomputes two halo rows, so thin bands
# cost time: at 1024x1280, bands of 25 rows (32768 pixels) took 1.16x the
# whole image's time and bands of 128 rows 1.00x (one run, alternated).
# The floor also keeps a tiny ``band_pixels`` from making inference
# thousands of times slower (one-row bands: 547 s at 480x640).
MIN_BAND_ROWS = 64


def row_bands(module: nn.Module, x: torch.Tensor) -> list:
    """Row ranges ``(r0, r1)`` for running ``module`` on ``x`` in bands.

    Bands are for inference: ``module`` in eval mode, no graph recorded, and
    more than ``module.band_pixels`` pixels per image. Otherwise the result
    is empty and the caller takes its whole-image path (in training, banding
    measured a few percent slower and memory is set by the graph anyway).
    Bands have equal heights (within a row) of at least
    :data:`MIN_BAND_ROWS` rows, and their number is a multiple of
    ``torch.get_num_threads()`` when there are more bands than threads, so
    that the threads of :func:`_map_bands` finish together.
    """
    h, w = x.shape[-2:]
    band_pixels = module.band_pixels
    if (band_pixels <= 0 or module.training or torch.is_grad_enabled()
            or h * w <= band_pixels):
        return []
    rows = max(MIN_BAND_ROWS, band_pixels // w)
    count = min(-(-h // rows), h // MIN_BAND_ROWS)
    threads = torch.get_num_threads()
    if count > threads:  # a multiple of the threads: none waits at the end
        count -= count % threads
    if count <= 1:
        return []
    bounds = [h * i // count for i in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


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
    run without a graph and under the caller's autocast (grad and autocast
    modes are per thread: set again in each) and mark their thread as band
    work for :func:`conv2d`.
    """
    global _POOL
    caller_threads = torch.get_num_threads()
    threads = min(caller_threads, len(bands))
    no_graph = torch.inference_mode if torch.is_inference_mode_enabled() \
        else torch.no_grad
    autocasts = [(device, torch.get_autocast_dtype(device))
                 for device in ('cpu', 'cuda')
                 if torch.is_autocast_enabled(device)]

    def single_threaded(band):
        torch.set_num_threads(1)
        _BAND_WORK.active = True
        try:
            with contextlib.ExitStack() as modes:
                modes.enter_context(no_graph())
                for device, dtype in autocasts:
                    modes.enter_context(torch.autocast(device, dtype))
                return fn(band)
        finally:
            _BAND_WORK.active = False

    try:
        if threads <= 1:
            return [single_threaded(band) for band in bands]
        with _POOL_LOCK:
            if _POOL is None or _POOL._max_workers < threads:
                _POOL = ThreadPoolExecutor(threads,
                                           thread_name_prefix='row-bands')
            pool = _POOL
        return list(pool.map(single_threaded, bands))
    finally:
        torch.set_num_threads(caller_threads)


def _sum_terms(terms: List[list]) -> list:
    """Sum the bands' :func:`gram_terms`, in band order."""
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


def _image_by_image(fn: Callable, *batches: torch.Tensor) -> torch.Tensor:
    """``fn`` applied to each image of the batches, stacked again.

    A single image is returned as it is: concatenating one tensor would
    copy a full-resolution result.
    """
    results = [
        fn(*(x[i:i + 1] for x in batches)) for i in range(len(batches[0]))
    ]
    return results[0] if len(results) == 1 else torch.cat(results)


def _store_rows(buffer: torch.Tensor, r0: int, r1: int,
                y: torch.Tensor) -> None:
    """Copy ``y`` into rows ``r0:r1`` of ``buffer``."""
    buffer[:, :, r0:r1].copy_(y)


def _add_into(out: torch.Tensor, r0: int, r1: int, a: torch.Tensor,
              b: torch.Tensor) -> None:
    """Write ``a + b`` into rows ``r0:r1`` of ``out``."""
    torch.add(a, b, out=out[:, :, r0:r1])


def transformer_block_banded(block: nn.Module, x: torch.Tensor,
                             bands: list) -> torch.Tensor:
    """``TransformerBlock.forward`` over row ``bands``, image by image.

    Two passes over the bands: the first makes q, k and v, sums the Gram
    terms and keeps v; the second applies the attention (on the band and
    its halo rows, from the kept v) and the feed-forward. Only the input,
    v and the result are full-resolution tensors.
    """
    return _image_by_image(
        lambda image: _transformer_block_image(block, image, bands), x)


def _transformer_block_image(block: nn.Module, x: torch.Tensor,
                             bands: list) -> torch.Tensor:
    """:func:`transformer_block_banded` for one image (1, C, H, W)."""
    attn = block.attn
    v = torch.empty_like(x)

    def qkv(band):
        z, rows = _with_halo(x, *band)
        z = block.norm1(z)
        _store_rows(v, *band, attn.qkv_part(z, 2)[:, :, rows])
        return gram_terms(attn.qkv_part(z, 0)[:, :, rows],
                          attn.qkv_part(z, 1)[:, :, rows])

    weights = attention_from_terms(_sum_terms(_map_bands(qkv, bands)),
                                   attn.temperature, attn.num_heads)
    mix = projection_mix(weights, attn.project_out)
    out = torch.empty_like(x)

    def attend_feed_forward(band):
        z, rows = _with_halo(x, *band)
        z = add_residual(
            z, apply_mix(mix,
                         _with_halo(v, *band)[0], attn.project_out.bias))
        _add_into(out, *band, z[:, :, rows],
                  block.ffn(block.norm2(z), rows))

    _map_bands(attend_feed_forward, bands)
    return out


def cross_modal_fusion_banded(fusion: nn.Module, x1: torch.Tensor,
                              x2: torch.Tensor, bands: list) -> torch.Tensor:
    """``CrossModalFusion.forward`` over row ``bands``, image by image.

    Two passes, as in :func:`transformer_block_banded`: q, k, v of both
    branches and the Gram sums, then the cross attention and the gated
    expansions on each band with its halo rows.
    """
    return _image_by_image(
        lambda a, b: _cross_modal_fusion_image(fusion, a, b, bands), x1, x2)


def _cross_modal_fusion_image(fusion: nn.Module, x1: torch.Tensor,
                              x2: torch.Tensor,
                              bands: list) -> torch.Tensor:
    """:func:`cross_modal_fusion_banded` for one image."""
    v1, v2 = torch.empty_like(x1), torch.empty_like(x2)

    def qkv(band):
        z1, rows = _with_halo(x1, *band)
        z2, _ = _with_halo(x2, *band)
        _store_rows(v1, *band, fusion.qkv_part(z1, 1, 2)[:, :, rows])
        _store_rows(v2, *band, fusion.qkv_part(z2, 2, 2)[:, :, rows])
        q1, k1 = (fusion.qkv_part(z1, 1, p)[:, :, rows] for p in (0, 1))
        q2, k2 = (fusion.qkv_part(z2, 2, p)[:, :, rows] for p in (0, 1))
        return gram_terms(q2, k1) + gram_terms(q1, k2)

    terms = _sum_terms(_map_bands(qkv, bands))
    heads = fusion.num_heads
    projections = fusion.project_mid1, fusion.project_mid2
    mixes = (
        projection_mix(
            attention_from_terms(terms[:3], fusion.temperature1, heads),
            projections[0]),
        projection_mix(
            attention_from_terms(terms[3:], fusion.temperature2, heads),
            projections[1]))
    layout = (torch.channels_last if x1.is_contiguous(
        memory_format=torch.channels_last) else torch.contiguous_format)
    result = torch.empty((1, x1.shape[1] + x2.shape[1], *x1.shape[2:]),
                         dtype=x1.dtype, device=x1.device,
                         memory_format=layout)

    def attend_expand(band):
        y1, y2 = (add_residual(
            _with_halo(x, *band)[0],
            apply_mix(mix, _with_halo(v, *band)[0], proj.bias))
                  for x, v, mix, proj in zip((x1, x2), (v1, v2), mixes,
                                             projections))
        out = torch.cat([y1, y2], dim=1)
        rows = _with_halo(x1, *band)[1]
        _add_into(result, *band, out[:, :, rows],
                  fusion.expansions(out, y1, y2, rows))

    _map_bands(attend_expand, bands)
    return result
