"""Benchmark TDFusion on CPU: fusion inference and the three training steps.

Every measured item runs in a fresh subprocess, so its peak memory
(``VmHWM`` of ``/proc/self/status``, minus the resident set after the model
and inputs were built) is its own. Each item is warmed up, then timed
``--runs`` times; the table shows the median and the spread (min-max).
Inputs are synthetic (uniform random images, random labels/boxes): the
timings do not depend on image content.

Items:

* ``fuse``: ``ReFusion`` forward under ``torch.inference_mode`` on one pair
  (batch 1) at each ``--sizes``; ``fast`` is the library network (row bands
  of ``--band-pixels``), ``whole`` the same on the whole image at once
  (``band_pixels=0``), ``onnx`` its ONNX export run by ONNX Runtime (CPU,
  ``--threads`` intra-op threads), ``eager`` the straightforward reference
  kept in ``tdfusion_mm.testing``; ``light`` is the light network
  ``GradientDenseFusion`` (its defaults) on the whole image.
* ``plain``: a plain fusion step (G's weights under no-grad, F forward on
  the crops, fusion loss, backward, F's optimizer step).
* ``meta``: one meta pair, ``TDFusion.train_loss_generator`` (inner + outer).
* ``ft``: one F+T iteration, ``TDFusion.train_fusion_and_task``.
* ``meta-frozen``, ``ft-frozen`` (``--frozen``): the same with
  ``optim_wrapper.task_model=None`` (T frozen), each measured right after
  its default.

Training (``--setups``) uses each config's batch, swap and networks:
``msrs`` and ``m3fd`` the paper's sizes (one pair doubled by the
IR/visible swap, 256x256 crops for the fusion loss, the task network at
240x320, SegFormer-B0, or 192x256, the YOLO config); ``demo`` the demo
detector's (and the study's demo task: 8 pairs, no swap, 64x64 crops, F and
G of one 8-channel block, a narrow YOLOX at 96x128), ``demo_seg`` the demo
segmentor's.

``--rounds N`` measures the whole list of items N times, alternated (A, B,
C, A, B, C, ...), so that a change of load on a shared machine hits every
item alike; the summary compares medians over the rounds of one run.
``--bands-ab`` compares row bands with the whole image in one process
(alternated passes, ``--rounds`` of them): separate processes differed by up
to 40 % in speed on this machine, more than the effect measured.
``--fuse-folder IR VIS`` instead measures ``tools/fuse.py``'s folder loop
(reading and writing in threads beside the fusion) against the pure
fusion of the same pairs from memory, alternated, in one process.
``--meta-profile`` times the parts of a meta pair of each ``--setups``
(T's look-ahead, F on the inner crops, the virtual step, the outer pass,
the forward-mode product and G's step) with a trained and a frozen T, at
the config's batch and at 2 pairs a batch, ``--runs`` pairs each,
alternated in one process.

Figures measured elsewhere (the official code) are printed as
references only: a ratio to them would compare different machines and days.

Example::

    python tools/analysis_tools/benchmark.py --runs 5
    python tools/analysis_tools/benchmark.py --quick
    python tools/analysis_tools/benchmark.py --no-train --impls fast whole \
        onnx --sizes 480x640 1024x1280 --rounds 3 --runs 3
    python tools/analysis_tools/benchmark.py --bands-ab --sizes 480x640 \
        1024x1280 --rounds 10
    python tools/analysis_tools/benchmark.py --fuse-folder \
        data/MSRS/test/ir data/MSRS/test/vi --rounds 3
    python tools/analysis_tools/benchmark.py --meta-profile --setups demo \
        --runs 8
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys

from tdfusion_mm.benchmarks import (TRAIN_SETUPS, bands_ab_benchmark,
                                    fuse_folder_benchmark, load,
                                    meta_profile_benchmark, run_item)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def measure(item: str, args) -> dict:
    cmd = [sys.executable, osp.abspath(__file__), '--item', item,
           '--runs', str(args.runs), '--warmup', str(args.warmup),
           '--threads', str(args.threads),
           '--hessian-vector', args.hessian_vector,
           '--band-pixels', str(args.band_pixels),
           '--batch-size', str(args.batch_size)]
    if args.no_malloc_tuning:
        cmd.append('--no-malloc-tuning')
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          cwd=REPO)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[7:])
    return dict(item=item, error=(proc.stderr or proc.stdout).strip()
                .splitlines()[-1:] or ['failed'])


def fmt(res: dict) -> str:
    if 'error' in res:
        return f'{res["item"]:<28} FAILED: {res["error"][0][:80]}'
    t = res['times']
    med = statistics.median(t)
    return (f'{res["item"]:<28} {med:9.3f} {min(t):8.3f}-{max(t):<8.3f}'
            f' {res["peak_mb"]:9.0f} {1 / med:8.2f}   {res["load"]}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', nargs='+',
                        default=['256x256', '480x640', '1024x1280'],
                        help='fusion inference sizes, HxW')
    parser.add_argument('--impls', nargs='+', default=['fast', 'eager'],
                        choices=['fast', 'whole', 'onnx', 'eager', 'light'])
    parser.add_argument('--rounds', type=int, default=1,
                        help='measure all items this many times, '
                        'alternated')
    parser.add_argument('--fuse-folder', nargs=2, metavar=('IR', 'VIS'),
                        help="measure tools/fuse.py's folder loop against "
                        'pure fusion on these folders')
    parser.add_argument('--bands-ab', action='store_true',
                        help='row bands against the whole image, alternated '
                        'in one process, at each --sizes')
    parser.add_argument('--workers', type=int, default=2,
                        help='reading threads of --fuse-folder')
    parser.add_argument('--setups', nargs='+', default=['msrs', 'm3fd'],
                        choices=list(TRAIN_SETUPS))
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--no-train', action='store_true')
    parser.add_argument('--no-fuse', action='store_true')
    parser.add_argument('--quick', action='store_true',
                        help='3 runs, 480x640 only, MSRS only')
    parser.add_argument('--no-malloc-tuning', action='store_true',
                        help='keep glibc defaults (tdfusion_mm.utils.tune_malloc)')
    parser.add_argument('--hessian-vector', default='exact',
                        choices=['exact', 'finite_difference'],
                        help="the meta step's model.hessian_vector")
    parser.add_argument('--band-pixels', type=int, default=32768,
                        help="fast ReFusion's inference row bands "
                        '(model.band_pixels; 0: whole image)')
    parser.add_argument('--batch-size', type=int, default=0,
                        help="pairs per training batch (0: the config's)")
    parser.add_argument('--frozen', action='store_true',
                        help='also measure meta pairs and F+T iterations '
                        'with a frozen task model')
    parser.add_argument('--meta-profile', action='store_true',
                        help='time the parts of a meta pair of each setup '
                        '(T trained and frozen, the config\'s batch and 2; '
                        '--runs pairs each, alternated in one process)')
    parser.add_argument('--item', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_malloc_tuning:
        os.environ['TDFUSION_MALLOC_TUNING'] = '0'
    from tdfusion_mm.utils import tune_malloc
    tune_malloc()
    if args.item:
        run_item(args)
        return
    if args.bands_ab:
        bands_ab_benchmark(args)
        return
    if args.fuse_folder:
        fuse_folder_benchmark(args)
        return
    if args.meta_profile:
        meta_profile_benchmark(args)
        return
    if args.quick:
        args.runs, args.sizes, args.setups = 3, ['480x640'], ['msrs']

    print(f'TDFusion CPU benchmark: {args.threads} threads, warm-up '
          f'{args.warmup}, {args.runs} runs, synthetic random inputs, '
          f'malloc tuning {"off" if args.no_malloc_tuning else "on"}, '
          f'meta step hessian_vector={args.hessian_vector}, '
          f'fusion band_pixels={args.band_pixels}')
    print(f'load average at start: {load()}  (nproc {os.cpu_count()})')
    header = (f'{"item":<28} {"median s":>9} {"min-max s":>17} '
              f'{"peak MB":>9} {"per s":>8}   load (1/5/15 min)')
    print(header)
    print('-' * len(header))
    results = {}  # item -> list of results, one per round
    items = []
    if not args.no_fuse:
        items += [f'fuse:{impl}:{size}' for size in args.sizes
                  for impl in args.impls]
    if not args.no_train:
        kinds = ('plain', 'meta', 'meta-frozen', 'ft', 'ft-frozen') \
            if args.frozen else ('plain', 'meta', 'ft')
        items += [f'{kind}:{setup}' for setup in args.setups
                  for kind in kinds]
    for round_ in range(args.rounds):
        if args.rounds > 1:
            print(f'round {round_ + 1} of {args.rounds}')
        for item in items:
            res = measure(item, args)
            if 'times' in res:
                results.setdefault(item, []).append(res)
            print(fmt(res), flush=True)
    print('-' * len(header))

    def median(item):
        """Median time over all runs of all rounds, and the peak."""
        if item not in results:
            return None
        times = [t for res in results[item] for t in res['times']]
        return (statistics.median(times),
                max(res['peak_mb'] for res in results[item]))

    for size in args.sizes:
        meds = {i: median(f'fuse:{i}:{size}') for i in args.impls}
        base = meds.get('fast') or meds.get('whole')
        for impl, med in meds.items():
            if med and base:
                print(f'fusion {size} {impl}: median {med[0]:.3f} s, peak '
                      f'{med[1]:.0f} MB; time {med[0] / base[0]:.2f}x and '
                      f'peak {med[1] / max(base[1], 1):.2f}x the '
                      f'{"fast" if meds.get("fast") else "whole"} path')
    if '480x640' in args.sizes:
        print('reference, not comparable with this run: the official code '
              'took 3.87 s and +992 MB at 480x640 on another machine and '
              'day')
    for setup in args.setups:
        p, m, f = (results.get(f'{k}:{setup}', [None])[-1]
                   for k in ('plain', 'meta', 'ft'))
        if all(r and 'times' in r for r in (p, m, f)):
            mp = statistics.median(p['times'])
            print(f'{setup}: meta/plain {statistics.median(m["times"]) / mp:.2f}'
                  f', F+T/plain {statistics.median(f["times"]) / mp:.2f}')
        for kind in ('meta', 'ft'):
            a, b = (results.get(f'{k}:{setup}')
                    for k in (kind, f'{kind}-frozen'))
            if a and b and 'times' in a and 'times' in b:
                print(f'{setup} {kind}: frozen T / default time '
                      f'{statistics.median(b["times"]) / statistics.median(a["times"]):.2f}'
                      f', peak memory {b["peak_mb"] / max(a["peak_mb"], 1):.2f}')
    print(f'load average at end: {load()}')


if __name__ == '__main__':
    main()
