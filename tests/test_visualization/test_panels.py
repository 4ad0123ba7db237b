"""fusion_panel: IR | visible | fused [| w_ir] in one RGB row."""
import numpy as np
import torch

from tdfusion_mm.visualization import fusion_panel


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


def test_panel_takes_several_fusions():
    ir, vis = torch.rand(1, 8, 10), torch.rand(3, 8, 10)
    row = fusion_panel(ir, vis, dict(a=torch.rand(1, 8, 10),
                                     b=torch.rand(3, 8, 10)),
                       torch.rand(1, 8, 10), labels=False)
    assert row.shape == (8, 50, 3)
