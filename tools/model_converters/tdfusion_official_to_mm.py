"""Convert an official TDFusion checkpoint to a tdfusion_mm checkpoint.

Example::

    python tools/model_converters/tdfusion_official_to_mm.py \
        TDFusion_MSRS.pth checkpoints/refusion_msrs.pth
    # as ``load_from`` for a model holding the net as ``fusion_backbone``:
    python tools/model_converters/tdfusion_official_to_mm.py \
        TDFusion_MSRS.pth checkpoints/refusion_msrs_fb.pth \
        --prefix fusion_backbone.

The official ``models/TDFusion_*.pth`` files are plain state dicts of the
official ``ReFusion`` (the fusion network F); use ``--net lpn`` for a state
dict of the official loss generation network ``LPN`` (G).
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
from collections import OrderedDict

import torch

from tdfusion_mm.models.fusion_backbones.official_checkpoint import (
    build_target_network, convert_official_state_dict)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official TDFusion ReFusion/LPN state dict '
        'to the tdfusion_mm key layout.')
    parser.add_argument('src', help='official .pth file')
    parser.add_argument('dst', help='output .pth file')
    parser.add_argument(
        '--net', choices=['refusion', 'lpn'], default='refusion',
        help='which official network the state dict belongs to')
    parser.add_argument(
        '--prefix', default='',
        help="prefix for every output key, e.g. 'fusion_backbone.' to use "
        'the result as load_from of a model holding the network under that '
        'name (default: none)')
    return parser.parse_args(argv)


def _sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def convert(src, dst, net='refusion', prefix=''):
    """Convert ``src`` to ``dst``; returns the saved checkpoint dict."""
    # An official state dict holds only tensors: no pickled code is needed.
    official = torch.load(src, map_location='cpu', weights_only=True)
    converted = convert_official_state_dict(official, net=net)

    model = build_target_network(net)
    model.load_state_dict(converted, strict=True)
    num_params = sum(p.numel() for p in model.parameters())

    if prefix and not prefix.endswith('.'):
        prefix += '.'
    state_dict = OrderedDict(
        (prefix + k, v.contiguous().clone()) for k, v in converted.items())
    checkpoint = {
        'state_dict': state_dict,
        'meta': {
            'converted_from': osp.basename(src),
            'source_sha256': _sha256(src),
            'net': net,
            'model_type': type(model).__name__,
            'key_prefix': prefix,
            'num_params': num_params,
            'converter': 'tools/model_converters/tdfusion_official_to_mm.py',
        },
    }
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(checkpoint, dst)
    return checkpoint


def main(argv=None):
    args = parse_args(argv)
    ckpt = convert(args.src, args.dst, net=args.net, prefix=args.prefix)
    meta = ckpt['meta']
    print(f"converted {args.src} ({meta['net']}, {len(ckpt['state_dict'])} "
          f"tensors, {meta['num_params']} parameters) -> {args.dst}")


if __name__ == '__main__':
    main()
