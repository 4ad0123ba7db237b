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

Reading and writing run in threads beside the fusion (``--workers``). Every
image is checked (truncated, undecodable, unsupported dtype: an error
naming the file); float images (e.g. 32-bit TIFF) need ``--float-range``.
Every output is written under a temporary name and renamed once complete.
A pair whose fusion would need more memory than is available is refused
before fusing, with the estimate. Errors of the inputs print one line and
exit with status 1 (``--debug`` adds the traceback).
"""
import argparse
import os.path as osp
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from tdfusion_mm.apis import (FusionInferencer, UserError,  # noqa: E402
                              check_fusion_memory, list_pairs, read_pair,
                              run_main, write_image)
from tdfusion_mm.apis.fusion_inferencer import (to_bgr,  # noqa: E402
                                                unit_to_uint8)
from tdfusion_mm.utils import tune_malloc  # noqa: E402
from tdfusion_mm.visualization import tile_row  # noqa: E402


def parse_args(argv=None):
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
    parser.add_argument('--float-range', type=float, nargs=2,
                        metavar=('LOW', 'HIGH'),
                        help='value range of float images (e.g. 0 1 or '
                        '0 255); float images are refused without it')
    parser.add_argument('--workers', type=int, default=2,
                        help='threads reading images ahead (0: read in '
                        'turn with the fusion)')
    parser.add_argument('--no-memory-check', action='store_true',
                        help='fuse even when the estimated memory exceeds '
                        'what is available')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of input errors')
    return parser.parse_args(argv)


def build_inferencer(args) -> FusionInferencer:
    if not osp.isfile(args.config):
        raise UserError(f'config not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # Fusion only: T is not built.
    cfg.model = dict(fusion_backbone=cfg.model.fusion_backbone) \
        if 'model' in cfg and 'fusion_backbone' in cfg.model else cfg.get(
            'model', {})
    return FusionInferencer(cfg, args.checkpoint, device=args.device,
                            check_memory=not args.no_memory_check)


def prefetch(pairs: list, workers: int, float_range):
    """Yield (pair, read pair) in order, reading ``workers`` pairs ahead
    in threads (image decoding releases the GIL)."""
    if workers <= 0:
        for pair in pairs:
            yield pair, read_pair(pair['ir'], pair['vis'], float_range)
        return
    with ThreadPoolExecutor(workers) as pool:
        queue: deque = deque()
        todo = iter(pairs)
        for pair in todo:
            queue.append((pair, pool.submit(read_pair, pair['ir'],
                                            pair['vis'], float_range)))
            if len(queue) > workers:
                break
        while queue:
            pair, future = queue.popleft()
            yield pair, future.result()
            nxt = next(todo, None)
            if nxt is not None:
                queue.append((nxt, pool.submit(read_pair, nxt['ir'],
                                               nxt['vis'], float_range)))


def write_outputs(out: str, name: str, fused: np.ndarray, item: dict,
                  panels: bool) -> None:
    write_image(osp.join(out, name + '.png'), fused)
    if panels:
        panel = tile_row([(to_bgr(unit_to_uint8(item['ir_unit'])), 'IR'),
                          (to_bgr(unit_to_uint8(item['vis_unit'])), 'visible'),
                          (to_bgr(fused), 'fused')], labels=False)
        write_image(osp.join(out, 'panels', name + '.png'), panel)


def fuse_folder(inferencer: FusionInferencer, pairs: list, out: str,
                panels: bool = False, stretch: bool = False,
                float_range=None, workers: int = 2,
                progress: bool = True) -> dict:
    """Fuse ``pairs`` (from :func:`list_pairs`) into ``out``, reading
    ahead and writing behind in threads.

    Returns:
        dict: ``written`` (pairs), ``seconds`` (wall time of the loop),
        ``fusion_seconds`` (time inside the fusion network and colour
        restoration).

    Raises:
        UserError: A pair cannot be read or fused, or an output written;
            the message says how many pairs were written before.
    """
    bar = ProgressBar(len(pairs)) if progress else None
    written, fusion_seconds, error = 0, 0.0, None
    pending: deque = deque()
    start = time.perf_counter()
    with ThreadPoolExecutor(1) as writer:
        try:
            for pair, item in prefetch(pairs, workers, float_range):
                if inferencer.check_memory:
                    check_fusion_memory(
                        item['ir'].shape[:2],
                        getattr(inferencer.fusion_net, 'band_pixels', 0),
                        item['vis_path'] or pair['name'])
                tick = time.perf_counter()
                fused = inferencer.fuse(item['ir_unit'], item['vis_unit'],
                                        stretch)
                fusion_seconds += time.perf_counter() - tick
                pending.append(writer.submit(write_outputs, out,
                                             pair['name'], fused, item,
                                             panels))
                while pending and (pending[0].done() or len(pending) > 4):
                    pending.popleft().result()
                    written += 1
                if bar:
                    bar.update()
        except UserError as err:
            error = err
        for future in pending:  # finish (or fail) the writes under way
            try:
                future.result()
                written += 1
            except UserError as err:
                error = error or err
    if error is not None:
        raise UserError(f'{error}\n({written} of {len(pairs)} fused '
                        f'image(s) were written to {out}, each complete; '
                        'the others were not)') from error
    return dict(written=written, seconds=time.perf_counter() - start,
                fusion_seconds=fusion_seconds)


def main(args) -> None:
    tune_malloc()
    inferencer = build_inferencer(args)
    pairs = list_pairs(dict(ir=args.ir, vis=args.vis))
    stats = fuse_folder(inferencer, pairs, args.out, args.panels,
                        args.stretch, args.float_range, args.workers)
    print(f'\n{stats["written"]} fused image(s) written to {args.out} in '
          f'{stats["seconds"]:.2f} s ({stats["written"] / stats["seconds"]:.2f}'
          f' pairs/s; fusion itself {stats["fusion_seconds"]:.2f} s)')


if __name__ == '__main__':
    cli_args = parse_args()
    run_main(lambda: main(cli_args), debug=cli_args.debug)
