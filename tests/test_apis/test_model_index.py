"""The model index: every shipped model loads and fuses; names are checked."""
import os.path as osp

import numpy as np
import pytest
import torch
import yaml

from tdfusion_mm.apis import (FusionInferencer, UserError, load_model_index,
                              model_names, resolve_model)
from tdfusion_mm.apis.model_index import INDEX_FILE
from tdfusion_mm.registry import MODELS

SHIPPED = ('refusion_msrs_fixed', 'refusion_msrs_learned', 'gdf_msrs_fixed',
           'gdf_msrs_learned', 'gdf_msrs_fixed_16e')


def pair(h=37, w=50, seed=0):
    """An odd-sized pair with structure in both images."""
    rng = np.random.default_rng(seed)
    ir = np.zeros((h, w), np.uint8)
    ir[10:25, 12:30] = 220
    vis = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return ir, vis


def test_index_lists_the_shipped_models():
    assert model_names() == sorted(SHIPPED)
    for name, entry in load_model_index().items():
        assert osp.isfile(entry['Weights']), name
        assert osp.isfile(osp.join(osp.dirname(osp.dirname(INDEX_FILE)),
                                   '..', entry['Config'])), entry['Config']


@pytest.mark.parametrize('name', SHIPPED)
def test_every_model_loads_and_fuses(name):
    ir, vis = pair()
    result = FusionInferencer(name, device='cpu')(dict(ir=ir, vis=vis))
    fused = result['fused'][0]
    assert fused.shape == vis.shape and fused.dtype == np.uint8
    # A trained F keeps the infrared object: brighter there than around.
    luma = fused.astype(np.float32).mean(axis=2)
    assert luma[12:23, 14:28].mean() > luma[:8].mean() + 20, name


@pytest.mark.parametrize('name', SHIPPED)
def test_weights_are_f_alone_and_fit_its_config(name):
    cfg, weights = resolve_model(name)
    state = torch.load(weights, map_location='cpu', weights_only=True)
    keys = list(state['state_dict'])
    assert keys and all(k.startswith('fusion_backbone.') for k in keys)
    fusion = MODELS.build(dict(cfg.model.fusion_backbone,
                               _scope_='tdfusion_mm'))
    own = {f'fusion_backbone.{k}' for k in fusion.state_dict()}
    assert own == set(keys)


def test_wrong_name_lists_the_names():
    with pytest.raises(UserError) as err:
        FusionInferencer('refusion_msrs')
    for name in SHIPPED:
        assert name in str(err.value)


def test_a_missing_config_file_is_still_named(tmp_path):
    with pytest.raises(UserError, match='config not found'):
        FusionInferencer(str(tmp_path / 'no.py'), str(tmp_path / 'w.pth'))


def test_malformed_index_names_the_file_and_key(tmp_path):
    path = tmp_path / 'metafile.yml'
    path.write_text(yaml.safe_dump(dict(Models=[dict(Name='a')])))
    with pytest.raises(UserError, match=r'metafile.yml: model 0 has no'):
        load_model_index(str(path))
    path.write_text(yaml.safe_dump(dict(Models=[
        dict(Name='a', **{'Fusion Backbone': {}}, Weights='a.pth')] * 2)))
    with pytest.raises(UserError, match='given twice'):
        load_model_index(str(path))
    path.write_text('Models: [')
    with pytest.raises(UserError, match='cannot read the model index'):
        load_model_index(str(path))


def test_missing_weights_are_named(tmp_path):
    path = tmp_path / 'metafile.yml'
    path.write_text(yaml.safe_dump(dict(Models=[dict(
        Name='mine', Weights='weights/mine.pth',
        **{'Fusion Backbone': dict(type='GradientDenseFusion')})])))
    with pytest.raises(UserError, match='weights of mine are missing'):
        resolve_model('mine', str(path))


def test_fuse_tool_takes_a_model_name(tmp_path):
    import cv2
    from helpers import load_tool
    fuse = load_tool('tools/fuse.py')
    ir, vis = pair()
    cv2.imwrite(str(tmp_path / 'ir.png'), ir)
    cv2.imwrite(str(tmp_path / 'vis.png'), vis)
    args = fuse.parse_args(['--model', 'gdf_msrs_learned', '--ir',
                            str(tmp_path / 'ir.png'), '--vis',
                            str(tmp_path / 'vis.png'), '--out',
                            str(tmp_path / 'out')])
    fuse.main(args)
    assert cv2.imread(str(tmp_path / 'out' / 'vis.png')).shape == vis.shape
    for argv in (['c.py', '--model', 'x'], ['c.py']):
        with pytest.raises(SystemExit):
            fuse.parse_args(argv + ['--ir', 'a', '--vis', 'b', '--out', 'o'])
