"""export_onnx: the ONNX export of F matches PyTorch at any size."""
import numpy as np
import pytest
import torch


@pytest.mark.parametrize('fusion_cfg', [
    dict(type='ReFusion', dim=8, num_blocks=1, num_heads=2),
    dict(type='GradientDenseFusion')])
def test_onnx_export_matches_pytorch(tmp_path, fusion_cfg):
    ort = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    from tdfusion_mm.apis.onnx_export import export_onnx as export
    from tdfusion_mm.registry import MODELS
    torch.manual_seed(0)
    net = MODELS.build(fusion_cfg).eval()
    onnx_file = str(tmp_path / 'f.onnx')
    export(net, onnx_file)
    session = ort.InferenceSession(onnx_file,
                                   providers=['CPUExecutionProvider'])
    # Odd sizes, sizes unlike the export example, and a batch of two.
    for shape in ((1, 1, 33, 47), (1, 1, 64, 80), (2, 1, 41, 29),
                  (1, 1, 120, 97)):
        ir, vis = torch.rand(shape), torch.rand(shape)
        with torch.no_grad():
            expected = net(ir, vis).numpy()
        got = session.run(['fused'], dict(ir=ir.numpy(), vis=vis.numpy()))[0]
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() < 1e-4, shape
