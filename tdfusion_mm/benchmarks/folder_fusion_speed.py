"""Folder fusion speed: ``tools/fuse.py``'s folder loop (reading and writing
in threads beside the fusion) against the pure fusion of the same pairs
from memory, alternated, in one process."""
import os.path as osp
import statistics
import time

from .machine import load


def fuse_folder_benchmark(args) -> None:
    """tools/fuse.py's folder loop against pure fusion, alternated."""
    import shutil
    import tempfile

    import torch
    torch.set_num_threads(args.threads)
    from tdfusion_mm.apis import FusionInferencer, fuse_folder, list_pairs
    from tdfusion_mm.models.fusion_backbones import ReFusion
    ir_dir, vis_dir = args.fuse_folder
    pairs = list_pairs(dict(ir=ir_dir, vis=vis_dir))
    work = tempfile.mkdtemp()
    torch.manual_seed(0)
    ckpt = osp.join(work, 'f.pth')
    torch.save(ReFusion(band_pixels=args.band_pixels).state_dict(), ckpt)
    cfg = dict(model=dict(fusion_backbone=dict(
        type='ReFusion', band_pixels=args.band_pixels)))
    from mmengine.config import Config
    inferencer = FusionInferencer(Config(cfg), ckpt, device='cpu')
    loaded = [inferencer.read(pair) for pair in pairs]
    print(f'{len(pairs)} pairs of {ir_dir} and {vis_dir}; {args.threads} '
          f'threads; load average at start: {load()}')
    tool, pure = [], []
    for round_ in range(args.rounds):
        start = time.perf_counter()
        for item in loaded:
            inferencer.fuse(item['ir_unit'], item['vis_unit'])
        pure.append(time.perf_counter() - start)
        out = osp.join(work, f'out{round_}')
        stats = fuse_folder(inferencer, pairs, out, workers=args.workers,
                            progress=False)
        tool.append(stats['seconds'])
        shutil.rmtree(out)
        print(f'round {round_ + 1}: pure fusion {pure[-1]:.2f} s '
              f'({len(pairs) / pure[-1]:.3f} pairs/s), fuse.py loop '
              f'{tool[-1]:.2f} s ({len(pairs) / tool[-1]:.3f} pairs/s), '
              f'{100 * pure[-1] / tool[-1]:.1f} % of pure; load {load()}',
              flush=True)
    shutil.rmtree(work)
    ratio = statistics.median(p / t for p, t in zip(pure, tool))
    print(f'median over {args.rounds} rounds: fuse.py reaches '
          f'{100 * ratio:.1f} % of the pure fusion throughput; load average '
          f'at end: {load()}')
