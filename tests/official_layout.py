"""The official TDFusion key layout, written out from the official network
definitions (HaowenBai/TDFusion, ``nets/ReFusion.py``): every convolution
there is a ``MetaConv2d`` (an ``nn.Conv2d`` stored as ``.conv`` whose weight
is also registered as the wrapper's own ``weight``), so its state dict holds
``<name>.weight`` and ``<name>.conv.weight`` for each convolution; no
convolution has a bias. Used by the network and the converter tests."""
from collections import OrderedDict

import torch

from tdfusion_mm.models.fusion_backbones import ReFusion
from tdfusion_mm.models.loss_generators import LossGenerationModule

# Parameter counts of the official networks with their default arguments
# (dim=16, num_blocks=2, 8 heads, ffn_expansion_factor=2, bias=False),
# counted by hand from nets/ReFusion.py (the official ``count_parameter``
# sums ``net.parameters()``, which counts each shared conv weight once):
#   TransformerBlock(d): 2 LayerNorms 4d + temperature 8 + qkv 3d*d
#     + qkv_dwconv 27d + project_out d*d + ffn project_in 4d*d
#     + ffn dwconv 36d + ffn project_out 2d*d = 10d^2 + 67d + 8
#     -> 3,640 at d=16, 12,392 at d=32.
#   AFM(16): temperatures 16 + 2*(qkv 768 + dwconv 432) + project_mid 2*256
#     + project_E 4,096 + project_E_d 1,152 + 2*(E_i 1,024 + E_i_d 576)
#     + project_out 2*2,048 = 15,472.
#   ReFusion: project_in 2*144 + 4 blocks(16) 14,560 + AFM 15,472
#     + 2 blocks(32) 24,784 + project_out_0 4,608 + project_out_1 144
#     = 59,856.
#   LPN: patch_embed 2*144 + 4 blocks(16) 14,560 + 2 blocks(32) 24,784
#     + out1 4,608 + PReLU 1 + out3 288 = 44,529.
OFFICIAL_REFUSION_PARAMS = 59856
OFFICIAL_LPN_PARAMS = 44529

# --------------------------------------------------------------------------
# Official key layout: (key, shape, is_MetaConv2d). A MetaConv2d entry
# '<x>.weight' stands for the two official keys '<x>.weight' and
# '<x>.conv.weight'.
# --------------------------------------------------------------------------


def _block_layout(d, heads=8):
    return [
        ('norm1.body.weight', (d, ), False),
        ('norm1.body.bias', (d, ), False),
        ('attn.temperature', (heads, 1, 1), False),
        ('attn.qkv.weight', (3 * d, d, 1, 1), True),
        ('attn.qkv_dwconv.weight', (3 * d, 1, 3, 3), True),
        ('attn.project_out.weight', (d, d, 1, 1), True),
        ('norm2.body.weight', (d, ), False),
        ('norm2.body.bias', (d, ), False),
        ('ffn.project_in.weight', (4 * d, d, 1, 1), True),
        ('ffn.dwconv.weight', (4 * d, 1, 3, 3), True),
        ('ffn.project_out.weight', (d, 2 * d, 1, 1), True),
    ]


def _blocks(prefix, n, d):
    return [(f'{prefix}.{i}.{k}', s, c) for i in range(n)
            for k, s, c in _block_layout(d)]


AFM_LAYOUT = [
    ('temperature1', (8, 1, 1), False),
    ('temperature2', (8, 1, 1), False),
    ('qkv1.weight', (48, 16, 1, 1), True),
    ('qkv1_dwconv.weight', (48, 1, 3, 3), True),
    ('qkv2.weight', (48, 16, 1, 1), True),
    ('qkv2_dwconv.weight', (48, 1, 3, 3), True),
    ('project_mid1.weight', (16, 16, 1, 1), True),
    ('project_mid2.weight', (16, 16, 1, 1), True),
    ('project_E.weight', (128, 32, 1, 1), True),
    ('project_E_d.weight', (128, 1, 3, 3), True),
    ('project_E1.weight', (64, 16, 1, 1), True),
    ('project_E1_d.weight', (64, 1, 3, 3), True),
    ('project_E2.weight', (64, 16, 1, 1), True),
    ('project_E2_d.weight', (64, 1, 3, 3), True),
    ('project_out1.weight', (32, 64, 1, 1), True),
    ('project_out2.weight', (32, 64, 1, 1), True),
]

REFUSION_LAYOUT = (
    [('project_in_1.weight', (16, 1, 3, 3), True),
     ('project_in_2.weight', (16, 1, 3, 3), True)]
    + _blocks('encoder1', 2, 16) + _blocks('encoder2', 2, 16)
    + [('FM.' + k, s, c) for k, s, c in AFM_LAYOUT]
    + _blocks('decoder', 2, 32)
    + [('project_out_0.weight', (16, 32, 3, 3), True),
       ('project_out_1.weight', (1, 16, 3, 3), True)])

LPN_LAYOUT = (
    [('patch_embed1.weight', (16, 1, 3, 3), True),
     ('patch_embed2.weight', (16, 1, 3, 3), True)]
    + _blocks('encoder1', 2, 16) + _blocks('encoder2', 2, 16)
    + _blocks('encoder3', 2, 32)
    + [('out1.weight', (16, 32, 3, 3), True),
       ('out2.weight', (1, ), False),
       ('out3.weight', (2, 16, 3, 3), True)])

LAYOUTS = {'refusion': REFUSION_LAYOUT, 'lpn': LPN_LAYOUT}
NETS = {'refusion': ReFusion, 'lpn': LossGenerationModule}


def alias(key):
    return key[:-len('weight')] + 'conv.weight'


def make_official_state_dict(net, seed=0, dtype=torch.float32):
    """Seeded random state dict in the official key layout."""
    gen = torch.Generator().manual_seed(seed)
    sd = OrderedDict()
    for key, shape, is_conv in LAYOUTS[net]:
        if key.endswith('temperature') or key[-12:-1] == 'temperature':
            value = 0.5 + torch.rand(shape, generator=gen)  # distinct, > 0
        elif '.body.' in key:
            value = 1.0 + 0.2 * torch.randn(shape, generator=gen)
            if key.endswith('bias'):
                value -= 1.0
        elif key == 'out2.weight':
            value = 0.25 + 0.1 * torch.rand(shape, generator=gen)
        else:
            fan_in = shape[1] * shape[2] * shape[3]
            value = torch.randn(shape, generator=gen) * (1.5 / fan_in**0.5)
        value = value.to(dtype)
        sd[key] = value
        if is_conv:  # MetaConv2d registers the same tensor twice
            sd[alias(key)] = value
    return sd


def random_pair(h, w, b=1, seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    ir = torch.rand(b, 1, h, w, generator=gen, dtype=dtype)
    vis = torch.rand(b, 1, h, w, generator=gen, dtype=dtype)
    return ir, vis


def count_params(module):
    return sum(p.numel() for p in module.parameters())
