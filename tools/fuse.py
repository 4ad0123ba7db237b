"""Fuse infrared-visible pairs with a trained fusion network.

    # a pair, with a trained model of the package's model index
    python tools/fuse.py --model refusion_msrs_learned \
        --ir ir.png --vis vis.png --out out/
    # two folders, matched by file name, with a model of your own
    python tools/fuse.py CONFIG CHECKPOINT --ir IR_DIR --vis VIS_DIR --out out/

``--model`` names an entry of ``tdfusion_mm/model_zoo/metafile.yml`` (a
wrong name lists them). CHECKPOINT is a TDFusion checkpoint of ours (keys ``fusion_backbone.*``), a
converted official one (bare fusion-network keys) or an official one as
released (``models/TDFusion_*.pth``, converted on the fly). Any image size
works; the output has the input's size, the visible image's colour, and is
saved as PNG. ``--panels`` also saves IR | visible | fused side by side;
``--stretch`` min-max stretches each fused luma to [0, 1] as the official
``test.py`` does (use it to reproduce official outputs).

Reading and writing run in threads beside the fusion (``--workers``). Every
image is checked (truncated, undecodable, unsupported dtype: an error
naming the file); float images (e.g. 32-bit TIFF) need ``--float-range``.
Every output is written under a temporary name and renamed once complete.
A pair whose fusion would need more memory than is available is refused
before fusing, with the estimate. Errors of the inputs print one line and
exit with status 1 (``--debug`` adds the traceback).
"""
import argparse
import sys

from tdfusion_mm.apis import (FusionInferencer, fuse_folder, list_pairs,
                              resolve_model)
from tdfusion_mm.utils import tune_malloc
from tdfusion_mm.utils.cli import add_shared_args
from tdfusion_mm.utils.user_errors import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Fuse IR-visible pairs')
    parser.add_argument('config', nargs='?',
                        help='config with model.fusion_backbone')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--model', help='a trained model of the model '
                        'index, in place of CONFIG and CHECKPOINT')
    parser.add_argument('--ir', required=True, help='IR image or folder')
    parser.add_argument('--vis', required=True, help='visible image or folder')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--panels', action='store_true',
                        help='also save IR | visible | fused panels')
    parser.add_argument('--stretch', action='store_true',
                        help='min-max stretch the fused luma to [0, 1], as '
                        'the official test script does')
    parser.add_argument('--workers', type=int, default=2,
                        help='threads reading images ahead (0: read in '
                        'turn with the fusion)')
    parser.add_argument('--no-memory-check', action='store_true',
                        help='fuse even when the estimated memory exceeds '
                        'what is available')
    add_shared_args(parser, 'float_range', 'device', 'cfg_options', 'debug')
    args = parser.parse_args(argv)
    if args.model and (args.config or args.checkpoint):
        parser.error('give either --model or CONFIG and CHECKPOINT')
    if not args.model and not (args.config and args.checkpoint):
        parser.error('give CONFIG and CHECKPOINT, or --model NAME')
    return args


def main(args) -> None:
    tune_malloc()
    config, checkpoint = (resolve_model(args.model) if args.model else
                          (args.config, args.checkpoint))
    inferencer = FusionInferencer.fusion_only(
        config, checkpoint, args.cfg_options, device=args.device,
        check_memory=not args.no_memory_check)
    pairs = list_pairs(dict(ir=args.ir, vis=args.vis))
    stats = fuse_folder(inferencer, pairs, args.out, args.panels,
                        args.stretch, args.float_range, args.workers)
    print(f'\n{stats["written"]} fused image(s) written to {args.out} in '
          f'{stats["seconds"]:.2f} s ({stats["written"] / stats["seconds"]:.2f}'
          f' pairs/s; fusion itself {stats["fusion_seconds"]:.2f} s)')


if __name__ == '__main__':
    cli_args = parse_args()
    sys.exit(run_tool(lambda: main(cli_args)))
