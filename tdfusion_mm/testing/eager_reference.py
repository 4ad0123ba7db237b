"""The reference forward of ReFusion and LPN: the official data flow,
written plainly over a state dict (official key layout, which is also
ours).

It is independent of the library's modules: the converter is checked
against it on official-layout state dicts
(``tests/test_models/test_fusion_networks.py``), the optimised modules
(channels-last, fused attention, row bands) must match it
(``tests/test_models/test_layers/test_restormer_kernels.py`` and
``test_banded_forward.py``), and ``tools/analysis_tools/benchmark.py`` times
it as the eager baseline.
Convolutions read ``<name>.weight`` (an official ``MetaConv2d`` stores the
same tensor as ``<name>.conv.weight`` too) and ``<name>.bias`` if present.
"""
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    'reference_refusion', 'reference_lpn', 'refusion_forward',
    'transformer_block'
]

StateDict = Mapping[str, Tensor]
_LN_EPS = 1e-5


def _conv(sd: StateDict, name: str, x: Tensor) -> Tensor:
    """A bias-free or biased convolution; depthwise when its weight has one
    input channel per group."""
    w = sd[name + '.weight']
    groups = x.shape[1] if (w.shape[1] == 1 and x.shape[1] > 1) else 1
    return F.conv2d(x, w, sd.get(name + '.bias'), padding=w.shape[-1] // 2,
                    groups=groups)


def _layer_norm(sd: StateDict, name: str, x: Tensor) -> Tensor:
    """Layer norm over channels, with bias (mean removed) or bias-free."""
    weight = sd[name + '.body.weight'][:, None, None]
    bias = sd.get(name + '.body.bias')
    if bias is None:
        var = x.var(dim=1, keepdim=True, unbiased=False)
        return x * torch.rsqrt(var + _LN_EPS) * weight
    x = x - x.mean(dim=1, keepdim=True)
    var = x.square().mean(dim=1, keepdim=True)
    return torch.addcmul(bias[:, None, None], x * torch.rsqrt(var + _LN_EPS),
                         weight)


def _attention(q: Tensor, k: Tensor, v: Tensor, temperature: Tensor
               ) -> Tensor:
    """Transposed (channel) attention per head: softmax of the scaled
    cosine similarities of q's and k's channels, applied to v."""
    b, c, h, w = v.shape
    heads = temperature.shape[0]
    shape = (b, heads, c // heads, h * w)
    q = F.normalize(q.reshape(shape), dim=-1)
    k = F.normalize(k.reshape(shape), dim=-1)
    attn = (q @ k.transpose(-2, -1)) * temperature
    return (attn.softmax(dim=-1) @ v.reshape(shape)).reshape(b, c, h, w)


def _block(sd: StateDict, p: str, x: Tensor) -> Tensor:
    """Restormer block: MDTA and GDFN, each after a layer norm."""
    y = _layer_norm(sd, p + 'norm1', x)
    q, k, v = _conv(sd, p + 'attn.qkv_dwconv',
                    _conv(sd, p + 'attn.qkv', y)).chunk(3, 1)
    x = x + _conv(sd, p + 'attn.project_out',
                  _attention(q, k, v, sd[p + 'attn.temperature']))
    y = _layer_norm(sd, p + 'norm2', x)
    a, g = _conv(sd, p + 'ffn.dwconv', _conv(sd, p + 'ffn.project_in',
                                              y)).chunk(2, 1)
    return x + _conv(sd, p + 'ffn.project_out', F.gelu(a) * g)


def _blocks(sd: StateDict, prefix: str, x: Tensor) -> Tensor:
    i = 0
    while f'{prefix}.{i}.norm1.body.weight' in sd:
        x = _block(sd, f'{prefix}.{i}.', x)
        i += 1
    return x


def _cross_modal_fusion(sd: StateDict, x1: Tensor, x2: Tensor) -> Tensor:
    """ReFusion's AFM: cross attention both ways, then gated mixing."""
    q1, k1, v1 = _conv(sd, 'FM.qkv1_dwconv', _conv(sd, 'FM.qkv1',
                                                   x1)).chunk(3, 1)
    q2, k2, v2 = _conv(sd, 'FM.qkv2_dwconv', _conv(sd, 'FM.qkv2',
                                                   x2)).chunk(3, 1)
    x1 = x1 + _conv(sd, 'FM.project_mid1',
                    _attention(q2, k1, v1, sd['FM.temperature1']))
    x2 = x2 + _conv(sd, 'FM.project_mid2',
                    _attention(q1, k2, v2, sd['FM.temperature2']))
    out = torch.cat([x1, x2], 1)
    g1, g2 = _conv(sd, 'FM.project_E_d', _conv(sd, 'FM.project_E',
                                               out)).chunk(2, 1)
    e1 = _conv(sd, 'FM.project_E1_d', _conv(sd, 'FM.project_E1', x1))
    e2 = _conv(sd, 'FM.project_E2_d', _conv(sd, 'FM.project_E2', x2))
    return (out + _conv(sd, 'FM.project_out1', F.gelu(g1) * e1) +
            _conv(sd, 'FM.project_out2', F.gelu(g2) * e2))


def reference_refusion(sd: StateDict, ir: Tensor, vis: Tensor) -> Tensor:
    """ReFusion (F): two encoders, AFM, decoder, sigmoid."""
    x1 = _blocks(sd, 'encoder1', _conv(sd, 'project_in_1', ir))
    x2 = _blocks(sd, 'encoder2', _conv(sd, 'project_in_2', vis))
    out = _blocks(sd, 'decoder', _cross_modal_fusion(sd, x1, x2))
    out = F.leaky_relu(_conv(sd, 'project_out_0', out), 0.01)
    return torch.sigmoid(_conv(sd, 'project_out_1', out))


def reference_lpn(sd: StateDict, ir: Tensor, vis: Tensor) -> Tensor:
    """LPN (G): two encoders, a joint encoder, per-pixel softmax weights."""
    x1 = _blocks(sd, 'encoder1', _conv(sd, 'patch_embed1', ir))
    x2 = _blocks(sd, 'encoder2', _conv(sd, 'patch_embed2', vis))
    out = _blocks(sd, 'encoder3', torch.cat([x1, x2], 1))
    out = F.prelu(_conv(sd, 'out1', out), sd['out2.weight'])
    return torch.softmax(_conv(sd, 'out3', out), dim=1)


def refusion_forward(net: nn.Module, ir: Tensor, vis: Tensor) -> Tensor:
    """:func:`reference_refusion` with the weights of a ``ReFusion``."""
    return reference_refusion(dict(net.named_parameters()), ir, vis)


def transformer_block(block: nn.Module, x: Tensor) -> Tensor:
    """The reference forward of one ``TransformerBlock`` module."""
    return _block(dict(block.named_parameters()), '', x)
