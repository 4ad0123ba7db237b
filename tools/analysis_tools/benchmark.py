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
  ``model.freeze_task_model=True``, each measured right after its default.

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
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN_SETUPS = {
    # name: (config, task (h, w), crop); the batch is the config's.
    'msrs': ('configs/tdfusion_segformer_msrs.py', (240, 320), 256),
    'm3fd': ('configs/tdfusion_yolo_m3fd.py', (192, 256), 256),
    'demo': ('configs/tdfusion_yolo_demo.py', (96, 128), 64),
    'demo_seg': ('configs/tdfusion_segformer_demo.py', (96, 128), 64),
}


def proc_status_kb(key: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return 0


def load() -> str:
    return ' '.join(open('/proc/loadavg').read().split()[:3])


# ---------------------------------------------------------------- items
def build_fuse(impl: str, size, band_pixels: int):
    import torch
    from tdfusion_mm.models.fusion_backbones import ReFusion
    torch.manual_seed(0)
    if impl == 'light':
        from tdfusion_mm.models.fusion_backbones import GradientDenseFusion
        net = GradientDenseFusion().eval()
    else:
        net = ReFusion(
            band_pixels=0 if impl == 'whole' else band_pixels).eval()
    ir = torch.rand(1, 1, *size)
    vis = torch.rand(1, 1, *size)
    if impl == 'onnx':
        return build_onnx(net, ir, vis)
    if impl == 'eager':
        from tdfusion_mm.testing import refusion_forward

        def forward():
            return refusion_forward(net, ir, vis)
    else:
        from tdfusion_mm.models.algorithms.luma_fusion import fused_luma

        def forward():
            return fused_luma(net, ir, vis)

    def step():
        with torch.inference_mode():
            forward()

    return step


def build_onnx(net, ir, vis):
    """ONNX Runtime session of ``net``'s export; a step runs it once."""
    import tempfile

    import onnxruntime as ort
    from tdfusion_mm.apis.onnx_export import export_onnx
    onnx_file = osp.join(tempfile.mkdtemp(), 'refusion.onnx')
    export_onnx(net, onnx_file)
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get('OMP_NUM_THREADS', 2))
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_file, options,
                                   providers=['CPUExecutionProvider'])
    feed = dict(ir=ir.numpy(), vis=vis.numpy())

    def step():
        session.run(['fused'], feed)

    return step


def synthetic_batch(task: str, size, crop: int, seed: int,
                    batch_size: int = 1, num_classes: int = 3):
    """``batch_size`` pairs as the dataloader would give them (random
    content)."""
    import torch
    g = torch.Generator().manual_seed(seed)
    h, w = size
    pairs = [synthetic_pair(task, size, crop, g, num_classes)
             for _ in range(batch_size)]
    keys = ('ir', 'vis', 'ir_crop', 'vis_crop')
    return dict(inputs={k: [p[0][k] for p in pairs] for k in keys},
                data_samples=[p[1] for p in pairs])


def synthetic_pair(task: str, size, crop: int, g, num_classes: int):
    """One pair's inputs (uint8 tensors) and its task data sample."""
    import torch
    h, w = size

    def img(c, hh, ww):
        return torch.randint(0, 256, (c, hh, ww), generator=g,
                             dtype=torch.uint8)

    meta = dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1., 1.),
                img_path='synthetic.png', flip=False, flip_direction=None)
    if task == 'seg':
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        sample = SegDataSample(metainfo=meta)
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, h, w), generator=g))
    else:
        from mmdet.structures import DetDataSample
        from mmdet.structures.bbox import HorizontalBoxes
        from mmengine.structures import InstanceData
        sample = DetDataSample(metainfo=meta)
        xy = torch.rand(4, 2, generator=g) * torch.tensor([w * .6, h * .6])
        wh = torch.rand(4, 2, generator=g) * torch.tensor([w * .3, h * .3])
        wh += 8
        inst = InstanceData()
        inst.bboxes = HorizontalBoxes(torch.cat([xy, xy + wh], 1))
        inst.labels = torch.randint(0, num_classes, (4, ), generator=g)
        sample.gt_instances = inst
        sample.ignored_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.zeros(0, 4)),
            labels=torch.zeros(0, dtype=torch.long))
    return dict(ir=img(1, h, w), vis=img(3, h, w), ir_crop=img(1, crop, crop),
                vis_crop=img(3, crop, crop)), sample


def build_train(kind: str, setup: str, hessian_vector: str,
                batch_size: int = 0):
    import copy

    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from tdfusion_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
    cfg_path, size, crop = TRAIN_SETUPS[setup]
    cfg = Config.fromfile(osp.join(REPO, cfg_path))
    init_default_scope('tdfusion_mm')
    torch.manual_seed(0)
    cfg.model.hessian_vector = hessian_vector
    kind, frozen, _ = kind.partition('-frozen')
    cfg.model.freeze_task_model = bool(frozen)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.train()
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=optim_cfg.pop('constructor'), optim_wrapper_cfg=optim_cfg))
    optim = constructor(model)
    task = 'seg' if 'segformer' in cfg_path else 'det'
    head = model.task_model.decode_head if task == 'seg' \
        else model.task_model.bbox_head
    counter = [0]

    def batch():
        counter[0] += 1
        return synthetic_batch(task, size, crop, counter[0],
                               batch_size or cfg.train_dataloader.batch_size,
                               head.num_classes)

    if kind == 'meta':

        def step():
            model.train_loss_generator(batch(), batch(), optim)
    elif kind == 'ft':

        def step():
            model.train_fusion_and_task(batch(), optim)
    else:
        f_optim = optim['fusion_backbone']

        def step():
            b = model.prepare(batch())
            with torch.no_grad():
                weights = model.loss_generator(b.ir_crop, b.vis_y_crop)
            fused = model.fusion_backbone(b.ir_crop, b.vis_y_crop)
            terms = model.fusion_loss(fused, b.ir_crop, b.vis_y_crop,
                                      weights)
            loss, _ = model.parse_losses(terms)
            f_optim.update_params(loss)

    return step


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


# ---------------------------------------------------------------- driver
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
