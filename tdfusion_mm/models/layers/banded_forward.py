"""Banded forwards of the blocks: the result of ``forward`` computed over
row bands (:mod:`.row_banding`) with a one-row halo for the 3x3
convolutions, the attention's Gram sums accumulated band by band."""
from typing import Callable, List

import torch
import torch.nn as nn

from .restormer_kernels import (add_residual, apply_mix, attention_from_terms,
                                gram_terms, projection_mix)
from .row_banding import map_bands

__all__ = ['transformer_block_banded', 'cross_modal_fusion_banded']


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

    weights = attention_from_terms(_sum_terms(map_bands(qkv, bands)),
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

    map_bands(attend_feed_forward, bands)
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

    terms = _sum_terms(map_bands(qkv, bands))
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

    map_bands(attend_expand, bands)
    return result
