"""Keep only the fusion network F of a TDFusion checkpoint: the small file
that ``FusionInferencer`` and ``tools/fuse.py`` need (and that the model
index ships).

Example::

    python tools/model_converters/extract_fusion_weights.py \\
        work_dirs/refusion_msrs_learned/epoch_4.pth \\
        tdfusion_mm/model_zoo/weights/refusion_msrs_learned.pth
"""
import argparse
import hashlib
import os
import os.path as osp
import sys

import torch

from tdfusion_mm.utils.atomic_write import atomic_write
from tdfusion_mm.utils.checkpoint import load_checkpoint_file
from tdfusion_mm.utils.user_errors import UserError, run_tool

PREFIX = 'fusion_backbone.'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='a TDFusion checkpoint')
    parser.add_argument('out', help='the file to write')
    return parser.parse_args(argv)


def fusion_weights(checkpoint: str) -> dict:
    """F's state dict (keys ``fusion_backbone.*``) of a checkpoint."""
    state = load_checkpoint_file(checkpoint)
    state = state.get('state_dict', state)
    fusion = {k: v for k, v in state.items() if k.startswith(PREFIX)}
    if not fusion:
        raise UserError(f'{checkpoint} has no {PREFIX}* weights')
    return fusion


def main(args) -> None:
    fusion = fusion_weights(args.checkpoint)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with atomic_write(args.out) as tmp:
        torch.save(dict(state_dict=fusion), tmp)
    with open(args.out, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    count = sum(v.numel() for v in fusion.values())
    print(f'{args.out}: {len(fusion)} tensors, {count} values, '
          f'{osp.getsize(args.out)} bytes, sha256 {digest[:16]}')


if __name__ == '__main__':
    cli_args = parse_args()
    sys.exit(run_tool(lambda: main(cli_args)))
