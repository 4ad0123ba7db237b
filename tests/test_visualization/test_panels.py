"""fusion_panel: IR | visible | fused [| w_ir] [| extra] in one RGB row,
from tensors or arrays."""
import numpy as np
import pytest
import torch

from tdfusion_mm.visualization import fusion_panel, to_bgr8


def test_fusion_panel_layout():
    ir = torch.zeros(1, 6, 5)
    vis = torch.zeros(3, 6, 5)
    vis[2] = 1  # BGR: red
    w_ir = torch.ones(1, 6, 5)
    panel = fusion_panel(ir, vis, ir, w_ir, labels=False)
    assert panel.shape == (6, 20, 3) and panel.dtype == np.uint8
    np.testing.assert_array_equal(panel[0, 5], [255, 0, 0])  # RGB red
    assert panel[0, 15, 0] > 100 and panel[0, 15, 2] < 50  # JET(1): red
    assert fusion_panel(ir, vis, ir).shape == (6, 15, 3)
    assert fusion_panel(ir, vis).shape == (6, 10, 3)


def test_panel_takes_several_fusions_and_extra_tiles():
    ir, vis = torch.rand(1, 8, 10), torch.rand(3, 8, 10)
    row = fusion_panel(ir,
                       vis,
                       dict(a=torch.rand(1, 8, 10), b=torch.rand(3, 8, 10)),
                       torch.rand(1, 8, 10),
                       labels=False,
                       extra=dict(c=np.zeros((8, 7, 3), np.uint8)))
    assert row.shape == (8, 57, 3)
    np.testing.assert_array_equal(row[:, 50:], 0)


def test_arrays_and_tensors_give_one_panel():
    rng = np.random.default_rng(0)
    ir = rng.random((12, 9), dtype=np.float32)
    vis = rng.integers(0, 256, (12, 9, 3), dtype=np.uint8)
    fused = rng.integers(0, 256, (12, 9), dtype=np.uint8)
    w_ir = rng.random((12, 9), dtype=np.float32)
    from_arrays = fusion_panel(ir, vis, fused, w_ir)
    from_tensors = fusion_panel(
        torch.from_numpy(ir)[None],
        torch.from_numpy(vis / np.float32(255)).permute(2, 0, 1),
        torch.from_numpy(fused / np.float32(255))[None],
        torch.from_numpy(w_ir)[None])
    np.testing.assert_array_equal(from_arrays, from_tensors)
    # Titles are drawn on every tile.
    assert not np.array_equal(from_arrays,
                              fusion_panel(ir, vis, fused, w_ir, labels=False))
    np.testing.assert_array_equal(to_bgr8(fused[..., None])[..., 1], fused)


def test_bad_tiles_are_named():
    ir, vis = torch.rand(1, 8, 10), torch.rand(3, 8, 10)
    with pytest.raises(ValueError, match='fused 7'):
        fusion_panel(ir, vis, torch.rand(1, 7, 10))
    with pytest.raises(TypeError, match='int32'):
        fusion_panel(ir, np.zeros((8, 10), np.int32))
    with pytest.raises(ValueError, match='3-channel'):
        fusion_panel(ir, np.zeros((8, 10, 4), np.uint8))
