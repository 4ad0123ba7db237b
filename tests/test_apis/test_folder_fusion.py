"""fuse_folder: the inferencer's read, fuse and panel, read ahead and
written behind in threads, in order; errors say how much was written."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from tdfusion_mm.apis import (FusionInferencer, UserError, fuse_folder,
                              list_pairs)
from tdfusion_mm.models.fusion_backbones import ReFusion


@pytest.fixture(scope='module')
def inferencer(tmp_path_factory):
    net = dict(dim=8, num_blocks=1, num_heads=2)
    torch.manual_seed(0)
    ckpt = str(tmp_path_factory.mktemp('folder') / 'f.pth')
    torch.save(ReFusion(**net).state_dict(), ckpt)
    cfg = Config(
        dict(model=dict(fusion_backbone=dict(type='ReFusion', **net))))
    return FusionInferencer(cfg, ckpt, device='cpu')


def write_pairs(root, names, shape=(21, 30)):
    rng = np.random.default_rng(0)
    for folder, size in (('ir', shape), ('vis', shape + (3, ))):
        os.makedirs(root / folder, exist_ok=True)
        for name in names:
            cv2.imwrite(str(root / folder / f'{name}.png'),
                        rng.integers(0, 256, size, dtype=np.uint8))
    return list_pairs(dict(ir=str(root / 'ir'), vis=str(root / 'vis')))


@pytest.mark.parametrize('workers', [0, 2])
def test_outputs_and_panels_are_the_inferencers(inferencer, tmp_path, workers):
    pairs = write_pairs(tmp_path, ['a', 'b', 'c', 'd', 'e'])
    out = str(tmp_path / 'out')
    stats = fuse_folder(inferencer,
                        pairs,
                        out,
                        panels=True,
                        workers=workers,
                        progress=False)
    assert stats['written'] == 5 and stats['fusion_seconds'] > 0
    for pair in pairs:
        item = inferencer.read(pair)
        fused = inferencer.fuse(item['ir_unit'], item['vis_unit'])
        np.testing.assert_array_equal(
            cv2.imread(osp.join(out, pair['name'] + '.png')), fused)
        panel = cv2.imread(osp.join(out, 'panels', pair['name'] + '.png'))
        np.testing.assert_array_equal(panel,
                                      inferencer.panel(item, fused)[..., ::-1])
        assert panel.shape == (21, 90, 3)


def test_a_refused_pair_stops_the_run(inferencer, tmp_path, monkeypatch):
    import tdfusion_mm.apis.fusion_inferencer as module
    pairs = write_pairs(tmp_path, ['a', 'b', 'c'])

    def refuse(size, band_pixels, name):
        if name.endswith('b.png'):
            raise UserError(f'{name}: too large')

    monkeypatch.setattr(module, 'check_fusion_memory', refuse)
    out = str(tmp_path / 'out')
    with pytest.raises(UserError,
                       match=r'vis/b\.png: too large\n\(1 of 3 '
                       r'fused image\(s\) were written'):
        fuse_folder(inferencer, pairs, out, workers=1, progress=False)
    assert os.listdir(out) == ['a.png']
