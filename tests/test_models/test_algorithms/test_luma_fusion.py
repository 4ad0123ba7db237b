"""The one fusion path: F on the visible luma, the colour restored, for
tensors (TDFusion.fuse) and arrays (the inferencer) alike."""
import numpy as np
import torch

from tdfusion_mm.models.algorithms.luma_fusion import (fuse_batch, fuse_pair,
                                                       fused_luma, unit_tensor)
from tdfusion_mm.models.fusion_backbones import ReFusion


def _pair(seed, h=19, w=27):
    rng = np.random.default_rng(seed)
    return (rng.random(
        (h, w), dtype=np.float32), rng.random((h, w, 3), dtype=np.float32))


def test_tensors_and_arrays_agree_to_one_grey_level():
    torch.manual_seed(0)
    net = ReFusion(dim=8, num_blocks=1, num_heads=2).eval()
    ir, vis = _pair(0)
    with torch.no_grad():
        batch = fuse_batch(net, unit_tensor(ir), unit_tensor(vis))
    pair = fuse_pair(net, ir, vis)
    assert pair.dtype == np.uint8 and pair.shape == vis.shape
    image = np.rint(batch['image'][0].permute(1, 2, 0).numpy() * 255)
    assert np.abs(pair - image).max() <= 1
    grey = fuse_pair(net, ir, vis[..., 0])
    assert grey.shape == ir.shape
    np.testing.assert_array_equal(
        grey,
        np.rint(
            fused_luma(net, unit_tensor(ir), unit_tensor(
                vis[..., 0])).detach()[0, 0].numpy() * 255))


def test_stretch_is_per_image():
    net = torch.nn.Module()
    net.forward = lambda ir, vis_y: ir * vis_y
    ir = torch.rand(2, 1, 4, 5) * torch.tensor([0.5, 0.2]).view(2, 1, 1, 1)
    out = fused_luma(net, ir, torch.ones_like(ir), stretch=True)
    for image in out:
        assert image.min() == 0 and image.max() == 1


def test_tdfusion_fuse_is_the_path(demo_cfg):
    from helpers import build
    _, model, _ = build(demo_cfg)
    ir, vis = torch.rand(2, 1, 16, 20), torch.rand(2, 3, 16, 20)
    with torch.no_grad():
        expected = fuse_batch(model.fusion_backbone, ir, vis)
        got = model.fuse(ir, vis)
    for key in ('luma', 'image'):
        torch.testing.assert_close(got[key], expected[key], atol=0, rtol=0)
