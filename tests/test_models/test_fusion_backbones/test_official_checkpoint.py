"""The official-checkpoint converter
(``models/fusion_backbones/official_checkpoint.py``) and its command line
tool, on seeded state dicts in the official layout; the converted networks
must compute the official data flow (``tdfusion_mm.testing``'s reference
forward on the official state dict)."""
import importlib.util
import os.path as osp
from collections import OrderedDict

import pytest
import torch
from official_layout import (NETS, alias, count_params,
                             make_official_state_dict, random_pair)

from tdfusion_mm.models.fusion_backbones import (ReFusion,
                                                 convert_official_state_dict)
from tdfusion_mm.testing import reference_lpn, reference_refusion

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
REFERENCES = {'refusion': reference_refusion, 'lpn': reference_lpn}


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
    ir, vis = random_pair(37, 53, seed=2)
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
        ir, vis = random_pair(*size, seed=4, dtype=torch.float64)
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
                and alias(k) in official))
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
    path = osp.join(REPO, 'tools', 'model_converters',
                    'tdfusion_official_to_mm.py')
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
    assert ckpt['meta']['num_params'] == count_params(NETS[net]())
    sd = ckpt['state_dict']
    assert all(k.startswith(prefix) for k in sd)
    model = NETS[net]()
    model.load_state_dict({k[len(prefix):]: v for k, v in sd.items()},
                          strict=True)
    for key, value in official.items():
        assert torch.equal(
            model.state_dict()[key.replace('.conv.weight', '.weight')],
            value), key
