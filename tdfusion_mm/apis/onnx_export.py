"""F as ONNX: the export that ``tools/deployment/pytorch2onnx.py`` writes
and the benchmark measures."""
import os
import os.path as osp
import warnings

import torch

from tdfusion_mm.utils.atomic_write import atomic_write
from tdfusion_mm.utils.user_errors import UserError

__all__ = ['INPUT_NAMES', 'OUTPUT_NAME', 'export_onnx']

INPUT_NAMES = ('ir', 'vis')
OUTPUT_NAME = 'fused'


def whole_image(net: torch.nn.Module) -> None:
    """Turn the inference row bands off (their number depends on H, W)."""
    for module in net.modules():
        if hasattr(module, 'band_pixels'):
            module.band_pixels = 0


def export_onnx(net: torch.nn.Module, out: str, opset: int = 17) -> None:
    """Write F as ONNX with dynamic batch, height and width."""
    whole_image(net)
    example = (torch.rand(1, 1, 64, 80), torch.rand(1, 1, 64, 80))
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    try:
        with atomic_write(out) as tmp, torch.no_grad(), \
                warnings.catch_warnings():
            # shape checks and layout branches are traced as constants,
            # which is right here: values do not depend on them
            warnings.simplefilter('ignore', torch.jit.TracerWarning)
            # the TorchScript-based exporter is chosen on purpose (it needs
            # the onnx package only); torch warns that it is the legacy one
            warnings.simplefilter('ignore', DeprecationWarning)
            torch.onnx.export(
                net, example, tmp, input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME], opset_version=opset,
                dynamic_axes={name: axes for name in INPUT_NAMES +
                              (OUTPUT_NAME, )}, dynamo=False)
    except OSError as err:
        raise UserError(f'cannot write {out}: {err.strerror or err}') from err
