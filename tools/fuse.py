"""Fuse infrared-visible pairs with a trained fusion network.

    # a pair
    python tools/fuse.py CONFIG CHECKPOINT --ir ir.png --vis vis.png --out out/
    # two folders, matched by file name
    python tools/fuse.py CONFIG CHECKPOINT --ir IR_DIR --vis VIS_DIR --out out/

CHECKPOINT is a TDFusion checkpoint of ours (keys ``fusion_backbone.*``), a
converted official one (bare fusion-network keys) or an official one as
released (``models/TDFusion_*.pth``, converted on the fly). Any image size
works; the output has the input's size, the visible image's colour, and is
saved as PNG. ``--panels`` also saves IR | visible | fused side by side;
``--stretch`` min-max stretches each fused luma to [0, 1] as the official
``test.py`` does (use it to reproduce official outputs).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from tdfusion_mm.models.algorithms.tdfusion import build_own  # noqa: E402
from tdfusion_mm.models.fusion_backbones import (  # noqa: E402
    convert_official_state_dict)
from tdfusion_mm.utils import (luma_array, register_all_modules,  # noqa: E402
                               restore_colour_array, tune_malloc)
from tdfusion_mm.utils.checkpoint import load_checkpoint_file  # noqa: E402

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def parse_args():
    parser = argparse.ArgumentParser(description='Fuse IR-visible pairs')
    parser.add_argument('config', help='config with model.fusion_backbone')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--ir', required=True, help='IR image or folder')
    parser.add_argument('--vis', required=True, help='visible image or folder')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--panels', action='store_true',
                        help='also save IR | visible | fused panels')
    parser.add_argument('--stretch', action='store_true',
                        help='min-max stretch the fused luma to [0, 1], as '
                        'the official test script does')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    return parser.parse_args()


def pair_paths(ir: str, vis: str):
    """(name, ir path, visible path) for a pair or two matched folders."""
    if osp.isfile(ir) and osp.isfile(vis):
        return [(osp.splitext(osp.basename(vis))[0], ir, vis)]
    for path in (ir, vis):
        if not osp.isdir(path):
            raise FileNotFoundError(f'{path} is neither a file nor a folder '
                                    '(give two files or two folders)')

    def listing(folder):
        return {osp.splitext(f)[0]: osp.join(folder, f)
                for f in sorted(os.listdir(folder))
                if f.lower().endswith(IMG_EXTS)}
    irs, viss = listing(ir), listing(vis)
    alone = sorted(set(irs) ^ set(viss))
    if alone:
        raise FileNotFoundError(
            f'{len(alone)} image(s) have no partner (matched by name without '
            f'extension), e.g. {alone[:5]}; IR folder {ir}, visible {vis}')
    return [(name, irs[name], viss[name]) for name in sorted(irs)]


def read(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise OSError(f'cannot read image {path}')
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    return img


def to_unit(img: np.ndarray) -> np.ndarray:
    scale = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}
    if img.dtype not in scale:
        raise TypeError(f'unsupported image dtype {img.dtype}')
    return img.astype(np.float32) / scale[img.dtype]


def load_fusion_network(config: str, checkpoint: str, cfg_options, device):
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg or 'fusion_backbone' not in cfg.model:
        raise KeyError(f'{config} has no model.fusion_backbone')
    net = build_own(cfg.model.fusion_backbone)
    state = load_checkpoint_file(checkpoint)
    state = state.get('state_dict', state)
    prefix = 'fusion_backbone.'
    if any(k.startswith(prefix) for k in state):
        state = {k[len(prefix):]: v for k, v in state.items()
                 if k.startswith(prefix)}
    else:  # converted or official: checks keys, folds official aliases
        state = convert_official_state_dict(state, model=net)
    net.load_state_dict(state, strict=True)
    return net.to(device).eval()


@torch.no_grad()
def fuse_pair(net, ir_img: np.ndarray, vis_img: np.ndarray, device,
              stretch: bool = False):
    """Fused uint8 image (colour if the visible image is colour)."""
    ir_y, vis_y = (
        torch.from_numpy(to_unit(luma_array(img)))[None, None].to(device)
        for img in (ir_img, vis_img))
    fused = net(ir_y, vis_y)[0, 0]
    if stretch:
        fused = (fused - fused.min()) / (fused.max() - fused.min()).clamp_min(
            1e-12)
    return restore_colour_array(fused.cpu().numpy(), vis_img)


def as_bgr8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint16:
        img = (img / 257).round().astype(np.uint8)
    return img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


def main():
    tune_malloc()
    args = parse_args()
    register_all_modules(init_default_scope=False)
    net = load_fusion_network(args.config, args.checkpoint, args.cfg_options,
                              args.device)
    pairs = pair_paths(args.ir, args.vis)
    os.makedirs(args.out, exist_ok=True)
    if args.panels:
        os.makedirs(osp.join(args.out, 'panels'), exist_ok=True)
    bar = ProgressBar(len(pairs))
    for name, ir_path, vis_path in pairs:
        ir_img, vis_img = read(ir_path), read(vis_path)
        if ir_img.shape[:2] != vis_img.shape[:2]:
            raise ValueError(f'sizes differ: {ir_path} is {ir_img.shape[:2]}'
                             f', {vis_path} is {vis_img.shape[:2]}')
        fused = fuse_pair(net, ir_img, vis_img, args.device, args.stretch)
        cv2.imwrite(osp.join(args.out, name + '.png'), fused)
        if args.panels:
            panel = np.concatenate(
                [as_bgr8(ir_img), as_bgr8(vis_img), as_bgr8(fused)], axis=1)
            cv2.imwrite(osp.join(args.out, 'panels', name + '.png'), panel)
        bar.update()
    print(f'\n{len(pairs)} fused image(s) written to {args.out}')


if __name__ == '__main__':
    main()
