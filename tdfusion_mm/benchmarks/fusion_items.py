"""Inference speed items: one fusion of a pair by ReFusion (fast, whole
image, ONNX Runtime, the eager reference) or the light network."""
import os
import os.path as osp


def build_fuse(impl: str, size, band_pixels: int):
    import torch
    from tdfusion_mm.models.fusion_backbones import ReFusion
    torch.manual_seed(0)
    if impl == 'light':
        from tdfusion_mm.models.fusion_backbones import GradientDenseFusion
        net = GradientDenseFusion().eval()
    else:
        net = ReFusion(
            band_pixels=0 if impl == 'whole' else band_pixels).eval()
    ir = torch.rand(1, 1, *size)
    vis = torch.rand(1, 1, *size)
    if impl == 'onnx':
        return build_onnx(net, ir, vis)
    if impl == 'eager':
        from tdfusion_mm.testing import refusion_forward

        def forward():
            return refusion_forward(net, ir, vis)
    else:
        from tdfusion_mm.models.algorithms.luma_fusion import fused_luma

        def forward():
            return fused_luma(net, ir, vis)

    def step():
        with torch.inference_mode():
            forward()

    return step


def build_onnx(net, ir, vis):
    """ONNX Runtime session of ``net``'s export; a step runs it once."""
    import tempfile

    import onnxruntime as ort
    from tdfusion_mm.apis.onnx_export import export_onnx
    onnx_file = osp.join(tempfile.mkdtemp(), 'refusion.onnx')
    export_onnx(net, onnx_file)
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get('OMP_NUM_THREADS', 2))
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_file, options,
                                   providers=['CPUExecutionProvider'])
    feed = dict(ir=ir.numpy(), vis=vis.numpy())

    def step():
        session.run(['fused'], feed)

    return step
