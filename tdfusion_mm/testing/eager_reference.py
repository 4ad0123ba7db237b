"""Straightforward eager forward of the Restormer blocks and ReFusion.

This is the original (pre-optimisation) implementation of
``tdfusion_mm.models.layers.restormer`` and ``ReFusion.forward``, kept as
plain functions over the modules' parameters. The optimised modules must
match it (``tests/test_models/test_fast_fusion.py``) and
``tools/analysis_tools/benchmark.py`` times it as the baseline.
"""
import torch
import torch.nn.functional as F


def transposed_attention(q, k, v, temperature, num_heads):
    b, c, h, w = v.shape
    shape = (b, num_heads, c // num_heads, h * w)
    q = F.normalize(q.reshape(shape), dim=-1)
    k = F.normalize(k.reshape(shape), dim=-1)
    attn = (q @ k.transpose(-2, -1)) * temperature
    out = attn.softmax(dim=-1) @ v.reshape(shape)
    return out.reshape(b, c, h, w)


def layer_norm(m, x):
    """``LayerNorm`` (the wrapper) or its ``body``."""
    body = getattr(m, 'body', m)
    if hasattr(body, 'bias'):
        x = x - x.mean(dim=1, keepdim=True)
        var = x.square().mean(dim=1, keepdim=True)
        return torch.addcmul(body.bias[:, None, None],
                             x * torch.rsqrt(var + body.eps),
                             body.weight[:, None, None])
    var = x.var(dim=1, keepdim=True, unbiased=False)
    return x * torch.rsqrt(var + body.eps) * body.weight[:, None, None]


def mdta(m, x):
    q, k, v = m.qkv_dwconv(m.qkv(x)).chunk(3, dim=1)
    out = transposed_attention(q, k, v, m.temperature, m.num_heads)
    return m.project_out(out)


def gdfn(m, x):
    a, b = m.dwconv(m.project_in(x)).chunk(2, dim=1)
    return m.project_out(F.gelu(a) * b)


def transformer_block(m, x):
    x = x + mdta(m.attn, layer_norm(m.norm1, x))
    return x + gdfn(m.ffn, layer_norm(m.norm2, x))


def cross_modal_fusion(m, x1, x2):
    q1, k1, v1 = m.qkv1_dwconv(m.qkv1(x1)).chunk(3, dim=1)
    q2, k2, v2 = m.qkv2_dwconv(m.qkv2(x2)).chunk(3, dim=1)
    heads = m.num_heads
    x1 = x1 + m.project_mid1(
        transposed_attention(q2, k1, v1, m.temperature1, heads))
    x2 = x2 + m.project_mid2(
        transposed_attention(q1, k2, v2, m.temperature2, heads))
    out = torch.cat([x1, x2], dim=1)
    g1, g2 = m.project_E_d(m.project_E(out)).chunk(2, dim=1)
    y1 = F.gelu(g1) * m.project_E1_d(m.project_E1(x1))
    y2 = F.gelu(g2) * m.project_E2_d(m.project_E2(x2))
    return out + m.project_out1(y1) + m.project_out2(y2)


def refusion_forward(m, ir, vis):
    """Eager forward of a ``ReFusion`` module ``m``."""
    x1 = m.project_in_1(ir)
    for block in m.encoder1:
        x1 = transformer_block(block, x1)
    x2 = m.project_in_2(vis)
    for block in m.encoder2:
        x2 = transformer_block(block, x2)
    out = cross_modal_fusion(m.FM, x1, x2)
    for block in m.decoder:
        out = transformer_block(block, out)
    out = m.project_out_1(m.act(m.project_out_0(out)))
    return torch.sigmoid(out)
