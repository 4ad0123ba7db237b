"""Row bands: inference of a block over bands of image rows, spread over
threads.

In inference (eval mode, no graph recorded) a block runs image by image
over bands of rows (:mod:`.banded_forward`), so that its wide tensors (q,
k, hidden channels) exist one band at a time. The bands are spread over a
pool of threads, single-threaded each, where convolutions call oneDNN
directly (:func:`conv2d`).
"""
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['conv2d', 'MIN_BAND_ROWS', 'row_bands', 'map_bands']

_BAND_WORK = threading.local()  # ``active`` while a thread runs a band


def conv2d(x: torch.Tensor, weight: torch.Tensor,
           bias: Optional[torch.Tensor] = None, padding: int = 0,
           groups: int = 1) -> torch.Tensor:
    """``F.conv2d`` with stride 1; inside row bands on CPU, oneDNN directly.

    Bands run single-threaded, and on one thread PyTorch sends 1x1
    convolutions of batches under 16 to an im2col path instead of oneDNN:
    1.4-1.9x slower per convolution at 53x640 pixels, 16-64 channels. The
    direct call computes what the multi-threaded dispatch computes. Bands
    exist only in inference without a graph; everywhere else (training,
    forward-mode products, ONNX tracing) this is ``F.conv2d``.
    """
    if (getattr(_BAND_WORK, 'active', False) and x.device.type == 'cpu'
            and x.dtype == weight.dtype == torch.float32
            and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled):
        return torch.mkldnn_convolution(x, weight, bias, [padding, padding],
                                        [1, 1], [1, 1], groups)
    return F.conv2d(x, weight, bias, padding=padding, groups=groups)


# Fewest rows per band. Each band recomputes two halo rows, so thin bands
# cost time: at 1024x1280, bands of 25 rows (32768 pixels) took 1.16x the
# whole image's time and bands of 128 rows 1.00x (one run, alternated).
# The floor also keeps a tiny ``band_pixels`` from making inference
# thousands of times slower (one-row bands: 547 s at 480x640).
MIN_BAND_ROWS = 64


def row_bands(module: nn.Module, x: torch.Tensor) -> list:
    """Row ranges ``(r0, r1)`` for running ``module`` on ``x`` in bands.

    Bands are for inference: ``module`` in eval mode, no graph recorded, and
    more than ``module.band_pixels`` pixels per image. Otherwise the result
    is empty and the caller takes its whole-image path (in training, banding
    measured a few percent slower and memory is set by the graph anyway).
    Bands have equal heights (within a row) of at least
    :data:`MIN_BAND_ROWS` rows, and their number is a multiple of
    ``torch.get_num_threads()`` when there are more bands than threads, so
    that the threads of :func:`map_bands` finish together.
    """
    h, w = x.shape[-2:]
    band_pixels = module.band_pixels
    if (band_pixels <= 0 or module.training or torch.is_grad_enabled()
            or h * w <= band_pixels):
        return []
    rows = max(MIN_BAND_ROWS, band_pixels // w)
    count = min(-(-h // rows), h // MIN_BAND_ROWS)
    threads = torch.get_num_threads()
    if count > threads:  # a multiple of the threads: none waits at the end
        count -= count % threads
    if count <= 1:
        return []
    bounds = [h * i // count for i in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


_POOL: Optional[ThreadPoolExecutor] = None
_POOL_LOCK = threading.Lock()


def map_bands(fn: Callable, bands: list) -> list:
    """``[fn(band) for band in bands]``, the bands spread over threads.

    Each band is a chain of small operations. Run one after the other with
    PyTorch's intra-op threads, every operation is a parallel region whose
    threads must all arrive at its barrier: on a loaded machine one
    descheduled thread stalls them all, many times per band. Instead each
    of ``torch.get_num_threads()`` Python threads (PyTorch releases the GIL)
    runs whole bands single-threaded, and the caller's thread count is
    restored afterwards. The results keep the order of ``bands``. Bands
    run without a graph and under the caller's autocast (grad and autocast
    modes are per thread: set again in each) and mark their thread as band
    work for :func:`conv2d`.
    """
    global _POOL
    caller_threads = torch.get_num_threads()
    threads = min(caller_threads, len(bands))
    no_graph = torch.inference_mode if torch.is_inference_mode_enabled() \
        else torch.no_grad
    autocasts = [(device, torch.get_autocast_dtype(device))
                 for device in ('cpu', 'cuda')
                 if torch.is_autocast_enabled(device)]

    def single_threaded(band):
        torch.set_num_threads(1)
        _BAND_WORK.active = True
        try:
            with contextlib.ExitStack() as modes:
                modes.enter_context(no_graph())
                for device, dtype in autocasts:
                    modes.enter_context(torch.autocast(device, dtype))
                return fn(band)
        finally:
            _BAND_WORK.active = False

    try:
        if threads <= 1:
            return [single_threaded(band) for band in bands]
        with _POOL_LOCK:
            if _POOL is None or _POOL._max_workers < threads:
                _POOL = ThreadPoolExecutor(threads,
                                           thread_name_prefix='row-bands')
            pool = _POOL
        return list(pool.map(single_threaded, bands))
    finally:
        torch.set_num_threads(caller_threads)
