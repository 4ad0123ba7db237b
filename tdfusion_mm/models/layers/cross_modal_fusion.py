"""ReFusion's cross-modal attention fusion block (the official ``AFM``)."""
import torch
import torch.nn as nn

from .banded_forward import cross_modal_fusion_banded
from .restormer import check_heads
from .restormer_kernels import (add_residual, channel_attention, gelu_gate,
                                pointwise, pointwise_depthwise,
                                project_attended)
from .row_banding import row_bands

__all__ = ['CrossModalFusion']


class CrossModalFusion(nn.Module):
    """Cross-modal attention fusion block (the official ``AFM``).

    Data flow, with branch features ``x1`` (infrared) and ``x2`` (visible),
    each (B, dim, H, W):

    1. Each branch gets q, k, v from a 1x1 conv and a 3x3 depthwise conv.
    2. Cross attention: branch 1 is updated with ``softmax(q2 k1^T * t1) v1``
       and branch 2 with ``softmax(q1 k2^T * t2) v2`` (queries from the other
       modality, q and k normalised over positions as in MDTA), each through
       a 1x1 projection and a residual.
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
            :class:`.TransformerBlock`; 0 turns banding off. Defaults to
            32768.
    """

    def __init__(self, dim: int = 16, num_heads: int = 8,
                 bias: bool = False, band_pixels: int = 32768) -> None:
        super().__init__()
        check_heads(dim, num_heads)
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

    def qkv_part(self, x: torch.Tensor, branch: int,
                 part: int) -> torch.Tensor:
        """q (``part`` 0), k (1) or v (2) of branch 1 or 2 (step 1)."""
        pw, dw = ((self.qkv1, self.qkv1_dwconv) if branch == 1 else
                  (self.qkv2, self.qkv2_dwconv))
        return pointwise_depthwise(x, pw, dw, part * self.dim,
                                   (part + 1) * self.dim)

    def expansions(self, out: torch.Tensor, x1: torch.Tensor,
                   x2: torch.Tensor,
                   rows: slice = slice(None)) -> torch.Tensor:
        """Both gated, expanded and projected branches, summed (step 3).

        With ``rows``, only those rows of the result: the gates and the
        projections skip the others (row bands' halo rows).
        """
        e = self.project_E.weight.shape[0] // 2
        expanded = 4 * self.dim

        def branch(x, start, expand, expand_d, project):
            gate = pointwise_depthwise(out, self.project_E, self.project_E_d,
                                       start, start + e)[:, :, rows]
            value = pointwise_depthwise(x, expand, expand_d, 0,
                                        expanded)[:, :, rows]
            return pointwise(gelu_gate(gate, value), project)

        return add_residual(
            branch(x1, 0, self.project_E1, self.project_E1_d,
                   self.project_out1),
            branch(x2, e, self.project_E2, self.project_E2_d,
                   self.project_out2))

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """Fuse branch features ``x1``, ``x2`` into (B, 2 * dim, H, W)."""
        bands = row_bands(self, x1)
        if bands:
            return cross_modal_fusion_banded(self, x1, x2, bands)
        q1, k1 = self.qkv_part(x1, 1, 0), self.qkv_part(x1, 1, 1)
        q2, k2 = self.qkv_part(x2, 2, 0), self.qkv_part(x2, 2, 1)
        heads = self.num_heads
        attn1 = channel_attention(q2, k1, self.temperature1, heads)
        attn2 = channel_attention(q1, k2, self.temperature2, heads)
        del q1, k1, q2, k2
        x1 = x1 + project_attended(attn1, self.qkv_part(x1, 1, 2),
                                   self.project_mid1)
        x2 = x2 + project_attended(attn2, self.qkv_part(x2, 2, 2),
                                   self.project_mid2)
        out = torch.cat([x1, x2], dim=1)
        return add_residual(out, self.expansions(out, x1, x2))
