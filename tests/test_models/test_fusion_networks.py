"""Tests of the fusion network F (ReFusion), the loss generation module G and
the official-checkpoint converter.

The official key layout below is written out from the official network
definitions (HaowenBai/TDFusion, ``nets/ReFusion.py``): every convolution
there is a ``MetaConv2d`` (an ``nn.Conv2d`` stored as ``.conv`` whose weight
is also registered as the wrapper's own ``weight``), so its state dict holds
``<name>.weight`` and ``<name>.conv.weight`` for each convolution; no
convolution has a bias. The reference forward functions of
``tdfusion_mm.testing.eager_reference`` restate the official data flow on
such a state dict, independently of our modules.
"""
import importlib.util
import os.path as osp
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F

from tdfusion_mm.models.fusion_backbones import (ReFusion,
                                                 convert_official_state_dict)
from tdfusion_mm.models.layers import WithBiasLayerNorm
from tdfusion_mm.models.loss_generators import LossGenerationModule
from tdfusion_mm.registry import MODELS
from tdfusion_mm.testing import reference_lpn, reference_refusion

torch.set_num_threads(2)

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

SIZES = [(24, 40), (37, 53), (1, 1), (5, 3), (17, 64)]

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


def _alias(key):
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
            sd[_alias(key)] = value
    return sd


REFERENCES = {'refusion': reference_refusion, 'lpn': reference_lpn}


def _pair(h, w, b=1, seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    ir = torch.rand(b, 1, h, w, generator=gen, dtype=dtype)
    vis = torch.rand(b, 1, h, w, generator=gen, dtype=dtype)
    return ir, vis


def _count(module):
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_parameter_counts_equal_official():
    assert _count(ReFusion()) == OFFICIAL_REFUSION_PARAMS
    assert _count(LossGenerationModule()) == OFFICIAL_LPN_PARAMS
    # Second derivation: the official layout tables (shared conv weights
    # counted once, as nn.Module.parameters() does).
    for net, expected in (('refusion', OFFICIAL_REFUSION_PARAMS),
                          ('lpn', OFFICIAL_LPN_PARAMS)):
        total = sum(torch.Size(s).numel() for _, s, _ in LAYOUTS[net])
        assert total == expected, net


def test_build_from_registry():
    fuse = MODELS.build(dict(type='ReFusion'))
    gen = MODELS.build(dict(type='LossGenerationModule'))
    assert type(fuse) is ReFusion
    assert type(gen) is LossGenerationModule
    assert _count(fuse) == OFFICIAL_REFUSION_PARAMS
    assert _count(gen) == OFFICIAL_LPN_PARAMS


@pytest.mark.parametrize('size', SIZES)
def test_refusion_shape_and_range(size):
    torch.manual_seed(0)
    model = ReFusion().eval()
    ir, vis = _pair(*size, b=2)
    with torch.no_grad():
        out = model(ir, vis)
    assert out.shape == ir.shape
    assert out.dtype == ir.dtype
    assert torch.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize('size', SIZES)
def test_lpn_shape_and_normalised(size):
    torch.manual_seed(0)
    model = LossGenerationModule().eval()
    ir, vis = _pair(*size, b=2)
    with torch.no_grad():
        w = model(ir, vis)
    assert w.shape == (2, 2) + tuple(size)
    assert (w >= 0).all() and (w <= 1).all()
    torch.testing.assert_close(
        w.sum(1), torch.ones(2, *size), atol=1e-6, rtol=0)


def test_rejects_mismatched_inputs():
    with pytest.raises(ValueError):
        ReFusion()(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))
    with pytest.raises(ValueError):
        LossGenerationModule()(torch.rand(1, 2, 8, 8), torch.rand(1, 2, 8, 8))


@pytest.mark.parametrize('cls', [ReFusion, LossGenerationModule])
def test_gradients_reach_every_parameter(cls):
    torch.manual_seed(0)
    model = cls()
    ir, vis = _pair(24, 40)
    out = model(ir, vis)
    # Random weighting: the plain sum of G's softmax output is constant.
    loss = (out * torch.randn_like(out)).sum()
    loss.backward()
    dead = [n for n, p in model.named_parameters()
            if p.grad is None or not torch.any(p.grad != 0)]
    assert not dead, f'no gradient reaches {dead}'


def test_layer_norm_matches_layer_norm_over_channels():
    torch.manual_seed(0)
    ln = WithBiasLayerNorm(16)
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    x = torch.randn(2, 16, 7, 9) * 3 + 1
    ref = F.layer_norm(x.permute(0, 2, 3, 1), (16, ), ln.weight, ln.bias,
                       eps=1e-5).permute(0, 3, 1, 2)
    torch.testing.assert_close(ln(x), ref, atol=1e-5, rtol=1e-5)


def test_bias_free_variant_builds():
    model = ReFusion(norm_type='BiasFree')
    out = model(*_pair(9, 11))
    assert out.shape == (1, 1, 9, 11)
    # 4 + 4 encoder/decoder blocks x 2 norms lose their bias vectors
    assert _count(model) == OFFICIAL_REFUSION_PARAMS - 2 * (4 * 16 + 2 * 32)


@pytest.mark.parametrize('net', ['refusion', 'lpn'])
def test_convert_official_state_dict(net):
    official = make_official_state_dict(net, seed=1)
    converted = convert_official_state_dict(official, net=net)
    model = NETS[net]()
    model.load_state_dict(converted, strict=True)
    ours = model.state_dict()
    assert list(converted) == list(ours)

    # Every official tensor landed in the parameter of the same name
    # (MetaConv2d aliases '<x>.conv.weight' in '<x>.weight').
    for key, value in official.items():
        our_key = key.replace('.conv.weight', '.weight')
        assert torch.equal(ours[our_key], value), key
    # ...and the parameters are distinct tensors with distinct values, so a
    # swapped mapping could not pass the equality check above by chance.
    assert len({float(v.sum()) for v in ours.values()}) == len(ours)

    # Deterministic: two modules built from the same converted dict agree.
    twin = NETS[net]()
    twin.load_state_dict(converted, strict=True)
    ir, vis = _pair(37, 53, seed=2)
    with torch.no_grad():
        out, out_twin = model(ir, vis), twin(ir, vis)
    assert torch.equal(out, out_twin)


@pytest.mark.parametrize('net', ['refusion', 'lpn'])
def test_converted_model_matches_official_data_flow(net):
    # float64 (small sizes: CPU double convolutions are slow) so that the
    # comparison can be tight.
    official = make_official_state_dict(net, seed=3, dtype=torch.float64)
    model = NETS[net]().double()
    model.load_state_dict(convert_official_state_dict(official, net=net))
    for size in [(12, 20), (7, 5)]:
        ir, vis = _pair(*size, seed=4, dtype=torch.float64)
        with torch.no_grad():
            ours = model(ir, vis)
            ref = REFERENCES[net](official, ir, vis)
        torch.testing.assert_close(ours, ref, atol=1e-10, rtol=1e-9)
        # swapping the inputs must change the result (branches not merged)
        with torch.no_grad():
            assert not torch.allclose(model(vis, ir), ours)


@pytest.mark.parametrize('net', ['refusion', 'lpn'])
def test_convert_unwraps_prefix_and_container(net):
    official = make_official_state_dict(net, seed=5)
    expected = convert_official_state_dict(official, net=net)
    wrapped = {'module.' + k: v for k, v in official.items()}
    for variant in (wrapped, {'state_dict': wrapped}, {'model': official}):
        got = convert_official_state_dict(variant, net=net)
        assert list(got) == list(expected)
        for k in expected:
            assert torch.equal(got[k], expected[k]), k


def test_convert_accepts_single_copy_of_conv_weights():
    official = make_official_state_dict('refusion', seed=6)
    only_alias = OrderedDict(
        (k, v) for k, v in official.items()
        if not ('.conv.' not in k and k.endswith('.weight')
                and _alias(k) in official))
    assert len(only_alias) < len(official)
    got = convert_official_state_dict(only_alias, net='refusion')
    ReFusion().load_state_dict(got, strict=True)
    assert torch.equal(got['FM.project_E.weight'],
                       official['FM.project_E.weight'])


def test_convert_errors_name_the_key():
    official = make_official_state_dict('refusion', seed=7)

    missing = OrderedDict(official)
    del missing['decoder.1.norm2.body.bias']
    with pytest.raises(KeyError, match=r'decoder\.1\.norm2\.body\.bias'):
        convert_official_state_dict(missing, net='refusion')

    renamed = OrderedDict(official)
    renamed['FM.project_X.weight'] = renamed.pop('FM.project_E.weight')
    renamed['FM.project_X.conv.weight'] = renamed.pop(
        'FM.project_E.conv.weight')
    with pytest.raises(KeyError) as err:
        convert_official_state_dict(renamed, net='refusion')
    assert 'FM.project_X.weight' in str(err.value)
    assert 'FM.project_E.weight' in str(err.value)

    extra = OrderedDict(official, **{'encoder1.0.attn.bogus': torch.ones(1)})
    with pytest.raises(KeyError, match='encoder1.0.attn.bogus'):
        convert_official_state_dict(extra, net='refusion')

    # an LPN state dict is not a ReFusion state dict
    with pytest.raises(KeyError, match='patch_embed1'):
        convert_official_state_dict(
            make_official_state_dict('lpn'), net='refusion')

    bad_shape = OrderedDict(official)
    bad_shape['FM.qkv1.weight'] = torch.zeros(48, 32, 1, 1)
    bad_shape['FM.qkv1.conv.weight'] = bad_shape['FM.qkv1.weight']
    with pytest.raises(ValueError, match=r'FM\.qkv1\.weight'):
        convert_official_state_dict(bad_shape, net='refusion')

    disagree = OrderedDict(official)
    disagree['decoder.0.ffn.dwconv.conv.weight'] = torch.zeros(128, 1, 3, 3)
    with pytest.raises(ValueError, match=r'decoder\.0\.ffn\.dwconv'):
        convert_official_state_dict(disagree, net='refusion')

    with pytest.raises(ValueError):
        convert_official_state_dict(official, net='yolo')


def _load_cli():
    path = osp.join(osp.dirname(__file__), '..', '..', 'tools',
                    'model_converters', 'tdfusion_official_to_mm.py')
    spec = importlib.util.spec_from_file_location('tdfusion_official_to_mm',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('net,prefix', [('refusion', ''),
                                        ('refusion', 'fusion_backbone.'),
                                        ('lpn', '')])
def test_converter_cli(tmp_path, net, prefix):
    cli = _load_cli()
    official = make_official_state_dict(net, seed=8)
    src, dst = tmp_path / 'official.pth', tmp_path / 'out' / 'ours.pth'
    torch.save(official, src)
    cli.main([str(src), str(dst), '--net', net, '--prefix', prefix])
    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    assert ckpt['meta']['net'] == net
    assert ckpt['meta']['num_params'] == _count(NETS[net]())
    sd = ckpt['state_dict']
    assert all(k.startswith(prefix) for k in sd)
    model = NETS[net]()
    model.load_state_dict({k[len(prefix):]: v for k, v in sd.items()},
                          strict=True)
    for key, value in official.items():
        assert torch.equal(
            model.state_dict()[key.replace('.conv.weight', '.weight')],
            value), key
