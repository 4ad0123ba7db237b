"""Row bands against the whole image, alternated in one process."""
import statistics
import time

from .machine import load


def bands_ab_benchmark(args) -> None:
    """Row bands against the whole image, alternated in one process.

    Processes differ here by up to 40 % in speed, so this compares the two
    paths on one network, switching ``band_pixels`` between passes; the
    ratio is taken per round. Peaks need a process per item: run the
    ``fast``/``whole`` items for those.
    """
    import torch
    torch.set_num_threads(args.threads)
    from tdfusion_mm.models.fusion_backbones import ReFusion
    torch.manual_seed(0)
    net = ReFusion().eval()
    variants = {'whole image': 0, f'bands of {args.band_pixels} px':
                args.band_pixels}
    print(f'{args.threads} threads; load average at start: {load()}')
    for size in args.sizes:
        ir, vis = (torch.rand(1, 1, *(int(s) for s in size.split('x')))
                   for _ in range(2))
        times = {name: [] for name in variants}
        for round_ in range(args.warmup + args.rounds):
            for name, band_pixels in variants.items():
                for module in net.modules():
                    if hasattr(module, 'band_pixels'):
                        module.band_pixels = band_pixels
                with torch.inference_mode():
                    start = time.perf_counter()
                    net(ir, vis)
                    if round_ >= args.warmup:
                        times[name].append(time.perf_counter() - start)
        whole, bands = times.values()
        ratio = statistics.median(b / w for b, w in zip(bands, whole))
        for name, t in times.items():
            print(f'{size} {name}: median {statistics.median(t):.3f} s, '
                  f'min {min(t):.3f} s')
        print(f'{size}: bands / whole image, median over {args.rounds} '
              f'rounds: {ratio:.3f}; load {load()}', flush=True)
