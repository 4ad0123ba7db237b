"""FusionInferencer: inputs as paths, arrays and folders; fused images,
T's predictions, visualizations and saved outputs; checkpoint errors."""
import copy
import json
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from tdfusion_mm.apis import FusionInferencer, UserError, list_pairs
from tdfusion_mm.utils import luma_array, restore_colour_array

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def det_model(tmp_path_factory, demo_root):
    """The demo YOLOX config on the session's demo data and a checkpoint of
    its (untrained) model."""
    from helpers import build
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py'))
    for dl in (cfg.train_dataloader, cfg.val_dataloader,
               cfg.test_dataloader):
        dl.dataset.data_root = f'{demo_root}/m3fd/'
    _, model, _ = build(cfg)
    ckpt = str(tmp_path_factory.mktemp('inferencer') / 'det.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return cfg, ckpt, model.eval()


def demo_pair(demo_root, name='00000'):
    root = f'{demo_root}/m3fd'
    return f'{root}/Ir/{name}.png', f'{root}/Vis/{name}.png'


def test_fused_image_and_detections(det_model, demo_root, tmp_path):
    cfg, ckpt, model = det_model
    inferencer = FusionInferencer(cfg, ckpt, device='cpu')
    assert inferencer.has_task
    ir_path, vis_path = demo_pair(demo_root)
    out = inferencer(dict(ir=ir_path, vis=vis_path), return_vis=True,
                     out_dir=str(tmp_path), pred_score_thr=0.0)
    ir, vis = cv2.imread(ir_path, 0), cv2.imread(vis_path)
    # The fused image: F on the full-size luma, the visible colour restored.
    with torch.no_grad():
        fused_y = model.fusion_backbone(
            torch.from_numpy(ir / np.float32(255))[None, None],
            torch.from_numpy(luma_array(vis / np.float32(255)))[None, None])
    expected = restore_colour_array(fused_y[0, 0].numpy(),
                                    vis / np.float32(255))
    assert out['names'] == ['00000']
    np.testing.assert_array_equal(out['fused'][0], expected)
    # T's predictions equal tools/test.py's path (pipeline + test_step).
    pred = out['predictions'][0]
    assert set(pred) == {'bboxes', 'labels', 'scores'}
    assert len(pred['bboxes']) == len(pred['scores']) > 0
    panel = out['visualization'][0]
    assert panel.shape == (ir.shape[0], 3 * ir.shape[1], 3)
    saved = cv2.imread(str(tmp_path / 'fused' / '00000.png'))
    np.testing.assert_array_equal(saved, out['fused'][0])
    assert cv2.imread(str(tmp_path / 'vis' / '00000.png')).shape == \
        panel.shape
    with open(tmp_path / 'preds' / '00000.json') as f:
        assert json.load(f)['scores'] == pytest.approx(pred['scores'])


def test_inputs_paths_arrays_and_folders(det_model, demo_root):
    cfg, ckpt, _ = det_model
    inferencer = FusionInferencer(cfg, ckpt, device='cpu')
    root = f'{demo_root}/m3fd'
    by_folder = inferencer(dict(ir=f'{root}/Ir', vis=f'{root}/Vis'),
                           predict=False, batch_size=3)
    names = sorted(osp.splitext(f)[0] for f in os.listdir(f'{root}/Vis'))
    assert by_folder['names'] == names and not by_folder['predictions']
    ir_path, vis_path = demo_pair(demo_root, names[1])
    arrays = inferencer((cv2.imread(ir_path, 0), cv2.imread(vis_path)),
                        return_datasamples=True)
    assert arrays['names'] == ['000000']
    np.testing.assert_array_equal(arrays['fused'][0], by_folder['fused'][1])
    assert 'pred_instances' in arrays['predictions'][0]


def test_segmentation_masks(demo_root, tmp_path):
    from helpers import build
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tdfusion_segformer_demo.py'))
    for dl in (cfg.train_dataloader, cfg.val_dataloader,
               cfg.test_dataloader):
        dl.dataset.data_root = f'{demo_root}/msrs/'
    _, model, _ = build(cfg)
    ckpt = str(tmp_path / 'seg.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    inferencer = FusionInferencer(cfg, ckpt, device='cpu')
    root = f'{demo_root}/msrs/test'
    name = sorted(os.listdir(f'{root}/vi'))[0]
    out = inferencer(dict(ir=f'{root}/ir/{name}', vis=f'{root}/vi/{name}'),
                     out_dir=str(tmp_path / 'out'))
    vis = cv2.imread(f'{root}/vi/{name}')
    sem_seg = out['predictions'][0]['sem_seg']
    assert sem_seg.shape == vis.shape[:2] and sem_seg.max() < 9
    saved = cv2.imread(str(tmp_path / 'out' / 'preds' / name), 0)
    np.testing.assert_array_equal(saved, sem_seg)


def test_fusion_only_checkpoint_and_errors(det_model, demo_root, tmp_path):
    cfg, _, model = det_model
    ckpt = str(tmp_path / 'f_only.pth')
    torch.save(model.fusion_backbone.state_dict(), ckpt)  # converted layout
    inferencer = FusionInferencer(cfg, ckpt, device='cpu')
    assert not inferencer.has_task
    ir_path, vis_path = demo_pair(demo_root)
    out = inferencer(dict(ir=ir_path, vis=vis_path), return_vis=True)
    assert not out['predictions'] and out['fused'][0].shape[2] == 3
    broken = tmp_path / 'broken.pth'
    broken.write_bytes(open(ckpt, 'rb').read()[:1000])
    with pytest.raises(UserError, match='broken.pth'):
        FusionInferencer(cfg, str(broken), device='cpu')
    with pytest.raises(UserError, match='sizes differ'):
        inferencer(dict(ir=np.zeros((8, 9), np.uint8),
                        vis=np.zeros((8, 10, 3), np.uint8)))
    with pytest.raises(UserError, match='float32 image'):
        inferencer(dict(ir=np.zeros((8, 9), np.float32),
                        vis=np.zeros((8, 9, 3), np.uint8)))
    with pytest.raises(UserError, match='give two files or two folders'):
        list_pairs(dict(ir=ir_path, vis=osp.dirname(vis_path)))
    missing = str(tmp_path / 'none.py')
    for build in (FusionInferencer, FusionInferencer.fusion_only):
        with pytest.raises(UserError, match='config not found: .*none.py'):
            build(missing, ckpt, device='cpu')


@pytest.mark.parametrize('fusion_only', [True, False])
def test_checkpoint_of_another_fusion_width_is_one_line(det_model,
                                                        fusion_only):
    """As tools/fuse.py (F only) and the demos (F, G and T) load it."""
    cfg, ckpt, _ = det_model
    wide = copy.deepcopy(cfg)
    wide.model.fusion_backbone.dim = 16
    with pytest.raises(UserError) as info:
        if fusion_only:
            FusionInferencer.fusion_only(wide, ckpt, device='cpu')
        else:
            FusionInferencer(wide, ckpt, device='cpu')
    message = str(info.value)
    assert message.startswith(f'checkpoint {ckpt} does not fit the '), message
    assert re.search(r': \d+ shapes differ \(its vs theirs\): \[.*\] and \d+ '
                     r'more$', message), message
    assert '\n' not in message and len(message) < 600, message


def test_ours_and_official_checkpoints_load_alike(tmp_path):
    """Ours (``fusion_backbone.*``) and the official layout (every conv
    weight also stored as ``<name>.conv.weight``) give one F."""
    from tdfusion_mm.models.fusion_backbones import ReFusion
    net = dict(dim=8, num_blocks=1, num_heads=2)
    cfg = Config(dict(model=dict(fusion_backbone=dict(type='ReFusion',
                                                      **net))))
    torch.manual_seed(0)
    state = ReFusion(**net).state_dict()
    official = dict(state)
    for key, value in state.items():
        if value.dim() == 4:
            official[key.replace('.weight', '.conv.weight')] = value
    torch.save(dict(state_dict={f'fusion_backbone.{k}': v
                                for k, v in state.items()}),
               tmp_path / 'ours.pth')
    torch.save(official, tmp_path / 'official.pth')
    for ckpt in ('ours.pth', 'official.pth'):
        loaded = FusionInferencer(cfg, str(tmp_path / ckpt),
                                  device='cpu').fusion_backbone.state_dict()
        assert loaded.keys() == state.keys()
        for key, value in state.items():
            assert torch.equal(loaded[key], value), (ckpt, key)
