"""One benchmark item, built and timed in this process: warm-up, timed runs
and the peak memory above what building it left resident."""
import json
import time

from .fusion_items import build_fuse
from .machine import load, proc_status_kb
from .training_items import build_train


def build_step(item: str, band_pixels: int = 32768,
               hessian_vector: str = 'exact', batch_size: int = 0):
    """The callable that one run of ``item`` times (see the items above);
    ``batch_size`` 0 keeps the training config's."""
    kind, rest = item.split(':', 1)
    if kind == 'fuse':
        impl, size = rest.split(':')
        return build_fuse(impl, tuple(int(s) for s in size.split('x')),
                          band_pixels)
    return build_train(kind, rest, hessian_vector, batch_size)


def run_item(args) -> None:
    import torch
    torch.set_num_threads(args.threads)
    step = build_step(args.item, args.band_pixels, args.hessian_vector,
                      args.batch_size)
    base = proc_status_kb('VmRSS')
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    peak = proc_status_kb('VmHWM') - base
    print('RESULT ' + json.dumps(dict(item=args.item, times=times,
                                      peak_mb=peak / 1024, load=load())))
