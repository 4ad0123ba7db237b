"""Export the fusion network F to ONNX, with dynamic height and width.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out f.onnx \
        [--verify 96x128 99x131]

The ONNX model takes ``ir`` and ``vis`` (N, 1, H, W) float32 luma in [0, 1]
and returns ``fused`` (N, 1, H, W) in (0, 1): the fusion network alone, as
``tools/fuse.py`` runs it before restoring the visible image's colour.
CHECKPOINT is ours, converted or official (as for ``tools/fuse.py``). The
export traces the whole-image path (row bands are an inference-time memory
saving of the PyTorch network; the value is the same) with torch's
TorchScript-based exporter (``dynamo=False``: it needs the ``onnx``
package only, not ``onnxscript``). ``--verify`` runs ONNX Runtime on random
pairs of the given sizes and compares with PyTorch.
"""
import argparse
import sys

import numpy as np
import torch

from tdfusion_mm.apis import FusionInferencer, UserError
from tdfusion_mm.apis.onnx_export import OUTPUT_NAME, export_onnx
from tdfusion_mm.utils.cli import add_shared_args
from tdfusion_mm.utils.user_errors import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config with model.fusion_backbone')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True, help='ONNX file to write')
    parser.add_argument('--opset', type=int, default=17,
                        help='ONNX opset version')
    parser.add_argument('--verify', nargs='*', default=None,
                        metavar='HxW', help='compare ONNX Runtime with '
                        'PyTorch at these sizes (default 96x128 99x131 '
                        '480x640)')
    add_shared_args(parser, 'cfg_options', 'debug')
    return parser.parse_args(argv)


def max_difference(net: torch.nn.Module, onnx_file: str, size,
                   seed: int = 0) -> float:
    """Largest |ONNX Runtime - PyTorch| on a random pair of ``size``."""
    import onnxruntime as ort
    g = torch.Generator().manual_seed(seed)
    ir, vis = (torch.rand(1, 1, *size, generator=g) for _ in range(2))
    with torch.no_grad():
        expected = net(ir, vis).numpy()
    session = ort.InferenceSession(onnx_file,
                                   providers=['CPUExecutionProvider'])
    got = session.run([OUTPUT_NAME], dict(ir=ir.numpy(), vis=vis.numpy()))[0]
    if got.shape != expected.shape:
        raise RuntimeError(f'ONNX output {got.shape}, PyTorch '
                           f'{expected.shape} at {size}')
    return float(np.abs(got - expected).max())


def parse_size(text: str):
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise UserError(f'size {text!r}: expected HxW, e.g. 96x128'
                        ) from None
    return h, w


def main(args) -> None:
    net = FusionInferencer.fusion_only(args.config, args.checkpoint,
                                       args.cfg_options, device='cpu',
                                       check_memory=False).fusion_backbone
    export_onnx(net, args.out, args.opset)
    print(f'F exported to {args.out} (opset {args.opset}; inputs ir, vis '
          '(N, 1, H, W) in [0, 1], dynamic N, H, W)')
    if args.verify is not None:
        sizes = [parse_size(s) for s in
                 (args.verify or ['96x128', '99x131', '480x640'])]
        for size in sizes:
            diff = max_difference(net, args.out, size)
            print(f'{size[0]}x{size[1]}: max |ONNX Runtime - PyTorch| = '
                  f'{diff:.2e}')


if __name__ == '__main__':
    cli_args = parse_args()
    sys.exit(run_tool(lambda: main(cli_args)))
