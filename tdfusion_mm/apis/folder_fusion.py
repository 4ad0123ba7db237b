"""Fusing a list of pairs into a folder, reading ahead and writing behind
in threads (image decoding and encoding release the GIL)."""
import os.path as osp
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from mmengine.utils import ProgressBar

from tdfusion_mm.utils.image_dtype import unit_to_uint8
from tdfusion_mm.utils.user_errors import UserError
from tdfusion_mm.visualization import tile_row

from .fusion_inferencer import FusionInferencer, read_pair, to_bgr
from .image_io import write_image
from .memory import check_fusion_memory

__all__ = ['fuse_folder']


def _prefetch(pairs: list, workers: int, float_range):
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


def _write_outputs(out: str, name: str, fused: np.ndarray, item: dict,
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
            for pair, item in _prefetch(pairs, workers, float_range):
                if inferencer.check_memory:
                    check_fusion_memory(
                        item['ir'].shape[:2],
                        getattr(inferencer.fusion_backbone, 'band_pixels', 0),
                        item['vis_path'] or pair['name'])
                tick = time.perf_counter()
                fused = inferencer.fuse(item['ir_unit'], item['vis_unit'],
                                        stretch)
                fusion_seconds += time.perf_counter() - tick
                pending.append(writer.submit(_write_outputs, out,
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
