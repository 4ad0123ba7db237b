"""Fusing a list of pairs into a folder, reading ahead and writing behind
in threads (image decoding and encoding release the GIL)."""
import os.path as osp
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from mmengine.utils import ProgressBar

from tdfusion_mm.utils.user_errors import UserError

from .fusion_inferencer import FusionInferencer
from .image_io import write_image

__all__ = ['fuse_folder']


def _prefetch(read, pairs: list, workers: int):
    """Yield ``read(pair)`` in order, reading ``workers`` pairs ahead in
    threads (image decoding releases the GIL)."""
    if workers <= 0:
        yield from map(read, pairs)
        return
    with ThreadPoolExecutor(workers) as pool:
        queue: deque = deque(pool.submit(read, pair)
                             for pair in pairs[:workers + 1])
        for pair in pairs[workers + 1:]:
            yield queue.popleft().result()
            queue.append(pool.submit(read, pair))
        while queue:
            yield queue.popleft().result()


def _write_outputs(out: str, item: dict, fused: np.ndarray,
                   panels: bool) -> None:
    write_image(osp.join(out, item['name'] + '.png'), fused)
    if panels:
        panel = FusionInferencer.panel(item, fused)
        write_image(osp.join(out, 'panels', item['name'] + '.png'),
                    np.ascontiguousarray(panel[..., ::-1]))


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
            for item in _prefetch(
                    lambda pair: inferencer.read(pair, float_range), pairs,
                    workers):
                tick = time.perf_counter()
                fused = inferencer.fuse(item['ir_unit'], item['vis_unit'],
                                        stretch)
                fusion_seconds += time.perf_counter() - tick
                pending.append(writer.submit(_write_outputs, out, item,
                                             fused, panels))
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
