"""Check F, G, the fusion loss and the meta step on one device; time them.

Runs with PyTorch and mmengine's pure-Python part alone (no mmcv, mmdet,
mmseg or OpenCV; the wheels it needs are listed in ``docs/gpu.md`` and the
report names every distribution it imported). Writes
``OUT_DIR/device_check.json`` and ``OUT_DIR/device_check.md``; the exit
status is 1 if a check failed.

Checks (float32 with TF32 off, so that the device is compared with the CPU):

* ``networks``: F and G forward and backward, finite, every parameter with
  a gradient; on a GPU, outputs, gradients and F's forward-mode product
  (``torch.func.jvp``) against the CPU's.
* ``hypergradient_<dtype>``: the meta step's exact hypergradient against
  central finite differences of the task loss after the virtual step,
  along random directions of G's parameters (float64 and float32).
* ``bands``: F in inference over row bands against the whole image, in
  float32 and under autocast.
* ``autocast_<dtype>``: a meta pair (T's look-ahead step with loss scaling
  in float16, then the meta step) under autocast: the hypergradient's
  direction that of the float32 pair's (cosine), no NaN; F's step on the
  fusion loss finite.
* ``train_step``: TDFusion's two phases with the stand-in T, in float32
  and under autocast; needs OpenCV (mmengine's runner), skipped without.

Timings: F's inference (pairs per second, float32 and the low-precision
dtype) at 480x640 and 1024x1280, and one meta pair at the paper's MSRS
sizes (256x256 inner crops, 240x320 outer batch, one pair doubled by the
infrared/visible swap) with a small segmentation network in plain torch
standing in for T: its time and peak memory. ``--smoke`` runs everything at
tiny sizes (seconds on a CPU; the test suite runs it).

Example::

    python tools/analysis_tools/device_check.py --out-dir work_dirs/device
    python tools/analysis_tools/device_check.py --smoke --device cpu \
        --out-dir /tmp/device
"""
import argparse
import contextlib
import copy
import importlib.metadata
import json
import math
import os
import os.path as osp
import platform
import statistics
import sys
import time

import torch
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmengine.structures import BaseDataElement, PixelData
from torch import nn
from torch.func import functional_call

from tdfusion_mm.models.fusion_backbones import ReFusion
from tdfusion_mm.models.loss_generators import LossGenerationModule
from tdfusion_mm.models.losses import LearnableFusionLoss
from tdfusion_mm.models.meta import meta_hypergradient

# The official code's meta pair at MSRS sizes (CPU, resident memory added;
# docs/benchmark.md).
OFFICIAL_META_PAIR_GB = 17.7
# MSRS's nine classes.
NUM_CLASSES = 9
TASK_SCOPE = 'device_check'  # the registry scope of the stand-in T
TOLERANCES = {
    'networks_vs_cpu': 1e-4,  # max |difference| / max |CPU value|
    # directional derivatives against finite differences, the error
    # relative to the hypergradient's norm
    'hypergradient_float64': 1e-6,
    'hypergradient_float32': 1e-4,
    'bands_float32': 1e-5,  # max |difference| of fused images in [0, 1]
    'bands_autocast': 2e-2,
    # cosine of the hypergradients of a meta pair under autocast and in
    # float32 (G's normalised step follows its direction); they differ by
    # T's look-ahead step in low precision. Measured on the CPU in bfloat16:
    # 0.9974-0.9999 at three sizes.
    'autocast_hypergradient_cosine': 0.99,
}
# The hypergradient check's images, at every size: on larger ones G's
# effect on the mean task loss nears float64's rounding in the finite
# differences (1.0e-6 relative at 48x64, 1.2e-7 at 12x16).
HYPERGRADIENT_SIZE = (12, 16)
SIZES = {
    False: dict(net=dict(), check=(48, 64), bands=(200, 96),
                fuse=[(480, 640), (1024, 1280)], crop=256, task=(240, 320),
                runs=5),
    True: dict(net=dict(dim=8, num_blocks=1, num_heads=2), check=(12, 16),
               bands=(136, 16), fuse=[(24, 32), (48, 64)], crop=16,
               task=(12, 16), runs=1),
}


class StandInSegmenter(nn.Module):
    """A small segmentation network in plain torch, standing in for T.

    Three stride-2 convolutions with BatchNorm, a 1x1 classifier, logits
    upsampled to the input size; takes the fused luma (one channel).
    """

    def __init__(self, num_classes: int = NUM_CLASSES, width: int = 32):
        super().__init__()
        layers, channels = [], 1
        for out in (width, 2 * width, 4 * width):
            layers += [nn.Conv2d(channels, out, 3, 2, 1, bias=False),
                       nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            channels = out
        self.encoder = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.classifier(self.encoder(x))
        return nn.functional.interpolate(logits, x.shape[-2:],
                                         mode='bilinear', align_corners=False)


class StandInTask(BaseModel):
    """:class:`StandInSegmenter` as TDFusion's T: an mmengine model taking
    the fused luma in [0, 255] and the data samples' ``gt_sem_seg``."""

    def __init__(self):
        super().__init__(data_preprocessor=BaseDataPreprocessor())
        self.segmenter = StandInSegmenter()

    def forward(self, inputs, data_samples=None, mode='tensor'):
        logits = self.segmenter(inputs / 255)
        if mode != 'loss':
            return logits
        labels = torch.stack([s.gt_sem_seg.data[0] for s in data_samples])
        return dict(loss_ce=nn.functional.cross_entropy(logits, labels))


def stand_in_task_cfg() -> dict:
    """A config of :class:`StandInTask`, in a scope of its own (a child of
    mmengine's model registry, so that tdfusion_mm's stays as it is)."""
    from mmengine.registry import MODELS, Registry
    registry = MODELS.children.get(TASK_SCOPE) or Registry(
        'model', parent=MODELS, scope=TASK_SCOPE)
    registry.register_module(module=StandInTask, force=True)
    return dict(type='StandInTask', _scope_=TASK_SCOPE)


@contextlib.contextmanager
def full_float32():
    """TF32 off (CUDA matmuls and convolutions in full float32)."""
    saved = (torch.backends.cuda.matmul.allow_tf32,
             torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32,
         torch.backends.cudnn.allow_tf32) = saved


def low_dtypes(device: torch.device) -> list:
    """The autocast dtypes to check: float16 (not on the CPU, where it is
    slow) and bfloat16 where supported."""
    if device.type == 'cuda':
        return [torch.float16] + (
            [torch.bfloat16] if torch.cuda.is_bf16_supported() else [])
    return [torch.bfloat16]


def autocast_to(device_type: str, dtype):
    """Autocast to ``dtype``, or nothing for None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype)


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)


def peak_mb(device: torch.device):
    """Peak allocated memory since :func:`reset_peak` (None on the CPU)."""
    if device.type != 'cuda':
        return None
    return torch.cuda.max_memory_allocated(device) / 2**20


def rel_max(a, b) -> float:
    """max |a - b| / max |b| over lists of tensors."""
    num = max((x.double() - y.double()).abs().max().item()
              for x, y in zip(a, b))
    den = max(y.double().abs().max().item() for y in b)
    return num / den if den > 0 else float('inf')


def cosine_similarity(a, b) -> float:
    """Cosine of the angle between two lists of tensors (flattened)."""
    a, b = (torch.cat([t.double().flatten() for t in ts]) for ts in (a, b))
    return (a @ b / (a.norm() * b.norm())).item()


def pair(shape, batch=2, device='cpu', dtype=torch.float32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.rand(batch, 1, *shape, generator=gen).to(device, dtype)
            for k in ('ir', 'vis_y')}


def networks(net_cfg, seed=0):
    torch.manual_seed(seed)
    return ReFusion(**net_cfg), LossGenerationModule(**net_cfg)


def forward_backward(fusion, generator, x):
    fused = fusion(x['ir'], x['vis_y'])
    weights = generator(x['ir'], x['vis_y'])
    (fused.mean() + weights[:, 0].square().mean()).backward()
    grads = [p.grad.detach().clone() for p in
             list(fusion.parameters()) + list(generator.parameters())]
    return fused.detach(), weights.detach(), grads


def check_networks(device, sizes) -> dict:
    fusion, generator = networks(sizes['net'])
    x = pair(sizes['check'])
    results = {}
    for where in {device.type, 'cpu'}:
        f, g = copy.deepcopy(fusion).to(where), copy.deepcopy(generator).to(
            where)
        xd = {k: v.to(where) for k, v in x.items()}
        fused, weights, grads = forward_backward(f, g, xd)
        torch.manual_seed(1)
        tangents = {n: torch.randn(p.shape).to(where)
                    for n, p in f.named_parameters()}
        params = {n: p.detach() for n, p in f.named_parameters()}
        _, jvp = torch.func.jvp(
            lambda ps: functional_call(f, ps, (xd['ir'], xd['vis_y'])),
            (params, ), (tangents, ))
        results[where] = [fused, weights, jvp] + grads
    own = results[device.type]
    finite = all(torch.isfinite(t).all().item() for t in own)
    nonzero = all(t.abs().sum().item() > 0 for t in own[3:])
    sums_to_one = (own[1].sum(1) - 1).abs().max().item() < 1e-5
    out = dict(finite=finite, every_parameter_has_a_gradient=nonzero,
               weights_sum_to_one=sums_to_one,
               parameters=sum(p.numel() for p in fusion.parameters()) +
               sum(p.numel() for p in generator.parameters()))
    passed = finite and nonzero and sums_to_one
    if device.type != 'cpu':
        cpu = [t.cpu() for t in own]
        errors = dict(fused=rel_max(cpu[:1], results['cpu'][:1]),
                      weights=rel_max(cpu[1:2], results['cpu'][1:2]),
                      jvp=rel_max(cpu[2:3], results['cpu'][2:3]),
                      gradients=rel_max(cpu[3:], results['cpu'][3:]))
        out['relative_error_vs_cpu'] = errors
        out['tolerance'] = TOLERANCES['networks_vs_cpu']
        passed = passed and max(errors.values()) <= out['tolerance']
    out['passed'] = passed
    return out


def hypergradient_problem(device, dtype, inner_lr):
    """Narrow F and G, a one-layer task head, random labels."""
    fusion, generator = networks(dict(dim=4, num_blocks=1, num_heads=2))
    torch.manual_seed(2)
    task = nn.Conv2d(1, 3, 3, padding=1).requires_grad_(False)
    with torch.no_grad():  # G's influence on the task loss well above
        generator.out3.weight.mul_(10)  # float32 rounding
    fusion, generator, task = (m.to(device, dtype)
                               for m in (fusion, generator, task))
    inner = pair(HYPERGRADIENT_SIZE, device=device, dtype=dtype, seed=3)
    outer = pair(HYPERGRADIENT_SIZE, device=device, dtype=dtype, seed=4)
    target = torch.randint(0, 3, (2, *HYPERGRADIENT_SIZE),
                           generator=torch.Generator().manual_seed(5))
    target = target.to(device)

    def task_loss_fn(fused):
        return nn.functional.cross_entropy(task(fused), target)

    loss = LearnableFusionLoss()

    def loss_after_step(g_params):
        """Task loss after the virtual step with G's parameters given."""
        params = dict(fusion.named_parameters())
        weights = functional_call(generator, g_params,
                                  (inner['ir'], inner['vis_y']))
        fused = functional_call(fusion, params, (inner['ir'], inner['vis_y']))
        total = sum(loss(fused, inner['ir'], inner['vis_y'], weights).values())
        grads = torch.autograd.grad(total, list(params.values()))
        stepped = {n: (p - inner_lr * g).detach()
                   for (n, p), g in zip(params.items(), grads)}
        return task_loss_fn(functional_call(fusion, stepped,
                                            (outer['ir'], outer['vis_y'])))

    return (fusion, generator, loss, inner, outer, task_loss_fn,
            loss_after_step)


def check_hypergradient(device, dtype, directions=3) -> dict:
    """Directional derivatives of the task loss after the virtual step: the
    exact hypergradient in ``dtype`` against central finite differences in
    float64 (of the same networks and data)."""
    inner_lr = 0.5  # a large step: G's effect well above rounding
    problems = {d: hypergradient_problem(device, d, inner_lr)
                for d in {dtype, torch.float64}}
    fusion, generator, loss, inner, outer, task_loss_fn, _ = problems[dtype]
    result = meta_hypergradient(fusion, generator, loss, inner, outer,
                                task_loss_fn, inner_lr)
    reference_generator, loss_after_step = (problems[torch.float64][1],
                                            problems[torch.float64][-1])
    base = {n: p.detach() for n, p in reference_generator.named_parameters()}
    eps = 1e-5
    exact, numeric = [], []
    gen = torch.Generator().manual_seed(6)
    for i in range(directions):
        # first along the hypergradient (the derivative is its norm), then
        # random directions
        d = {n: result.hypergrads[n].double() if i == 0 else torch.randn(
            p.shape, generator=gen, dtype=torch.float64).to(device)
             for n, p in base.items()}
        norm = torch.sqrt(sum((v**2).sum() for v in d.values()))
        d = {n: v / norm for n, v in d.items()}
        exact.append(sum((result.hypergrads[n].double() * d[n]).sum()
                         for n in base).item())
        sides = [loss_after_step({n: base[n] + s * eps * d[n] for n in base})
                 .item() for s in (1, -1)]
        numeric.append((sides[0] - sides[1]) / (2 * eps))
    # errors relative to the hypergradient's norm
    scale = abs(numeric[0])
    error = max(abs(a - b) for a, b in zip(exact, numeric)) / scale \
        if scale > 0 else float('inf')
    tol = TOLERANCES[f'hypergradient_{str(dtype).split(".")[1]}']
    return dict(passed=error <= tol, relative_error=error, tolerance=tol,
                exact=exact, finite_differences=numeric, eps=eps)


def set_band_pixels(net, band_pixels):
    for m in net.modules():
        if hasattr(m, 'band_pixels'):
            m.band_pixels = band_pixels


def check_bands(device, sizes) -> dict:
    """F over row bands of 64 rows against the whole image."""
    fusion, _ = networks(sizes['net'])
    fusion = fusion.to(device).eval()
    x = pair(sizes['bands'], batch=1, device=device)
    width = sizes['bands'][1]
    out = {}
    modes = [('float32', None)] + [(str(d).split('.')[1], d)
                                   for d in low_dtypes(device)]
    passed = True
    for name, dtype in modes:
        fused = []
        for band_pixels in (0, 64 * width):
            set_band_pixels(fusion, band_pixels)
            with torch.inference_mode(), autocast_to(device.type, dtype):
                fused.append(fusion(x['ir'], x['vis_y']).float())
        error = (fused[0] - fused[1]).abs().max().item()
        tol = TOLERANCES['bands_float32' if dtype is None else
                         'bands_autocast']
        finite = bool(torch.isfinite(fused[1]).all())
        out[name] = dict(max_abs_difference=error, tolerance=tol,
                         finite=finite)
        passed = passed and finite and error <= tol
    out['passed'] = passed
    return out


def meta_pair(fusion, generator, loss, task, t_optim, inner, outer,
              target_inner, target_outer, inner_lr=1e-4, g_lr=1e-4,
              dtype=None, scaler=None):
    """One meta pair as TDFusion makes it: T's look-ahead step on F's
    fusion of the inner batch (under autocast with ``dtype``), the meta
    step, G's normalised SGD step; T restored. Returns the hypergradients
    and the losses."""
    device = inner['ir'].device.type
    saved_t = copy.deepcopy(task.state_dict())
    saved_opt = copy.deepcopy(t_optim.state_dict())
    with autocast_to(device, dtype):
        with torch.no_grad():
            fused = fusion(inner['ir'], inner['vis_y'])
        lookahead = nn.functional.cross_entropy(task(fused), target_inner)
    if scaler is not None:
        scaler.scale(lookahead).backward()
        scaler.step(t_optim)
        scaler.update()
    else:
        lookahead.backward()
        t_optim.step()
    t_optim.zero_grad()
    crops = dict(ir=inner['ir_crop'], vis_y=inner['vis_y_crop'])
    with autocast_to(device, dtype):
        result = meta_hypergradient(
            fusion, generator, loss, crops, outer,
            lambda f: nn.functional.cross_entropy(task(f), target_outer),
            inner_lr)
    scale = max(h.abs().max() for h in result.hypergrads.values())
    with torch.no_grad():
        for n, p in generator.named_parameters():
            p.sub_(g_lr * result.hypergrads[n] / scale.clamp_min(1e-30))
    task.load_state_dict(saved_t)
    t_optim.load_state_dict(saved_opt)
    return result, lookahead.detach()


def paired_batches(device, crop, task_size, seed=0):
    """An inner and an outer batch: one pair doubled by the swap (batch 2),
    the inner with crops; random labels for T."""
    gen = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(2):
        ir, vis = (torch.rand(1, 1, *task_size, generator=gen)
                   for _ in range(2))
        ir_c, vis_c = (torch.rand(1, 1, crop, crop, generator=gen)
                       for _ in range(2))
        batches.append({
            'ir': torch.cat([ir, vis]).to(device),
            'vis_y': torch.cat([vis, ir]).to(device),
            'ir_crop': torch.cat([ir_c, vis_c]).to(device),
            'vis_y_crop': torch.cat([vis_c, ir_c]).to(device),
        })
    labels = [torch.randint(0, NUM_CLASSES, (2, *task_size),
                            generator=gen).to(device) for _ in range(2)]
    return batches, labels


def pair_setup(device, sizes, seed=0):
    fusion, generator = networks(sizes['net'], seed)
    torch.manual_seed(seed + 1)
    task = StandInSegmenter()
    fusion, generator, task = (m.to(device)
                               for m in (fusion, generator, task))
    t_optim = torch.optim.Adam(task.parameters(), lr=1e-4)
    return fusion, generator, LearnableFusionLoss(), task, t_optim


def check_autocast(device, dtype, sizes) -> dict:
    """A meta pair and F's step under autocast against float32."""
    (inner, outer), (lab_in, lab_out) = paired_batches(
        device, sizes['crop'], sizes['task'])
    runs = {}
    for name, cast in (('float32', None), ('low', dtype)):
        fusion, generator, loss, task, t_optim = pair_setup(device, sizes)
        scaler = torch.amp.GradScaler(device.type) \
            if cast == torch.float16 else None
        result, lookahead = meta_pair(fusion, generator, loss, task, t_optim,
                                      inner, outer, lab_in, lab_out,
                                      dtype=cast, scaler=scaler)
        runs[name] = (result, lookahead)
    hyper = [list(runs[k][0].hypergrads.values()) for k in ('low',
                                                            'float32')]
    error = rel_max(*hyper)
    cosine = cosine_similarity(*hyper)
    finite = all(torch.isfinite(h).all().item() for h in hyper[0])
    # F's step on the fusion loss under autocast (loss scaling in float16).
    fusion, generator, loss, _, _ = pair_setup(device, sizes)
    f_optim = torch.optim.Adam(fusion.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler(device.type) \
        if dtype == torch.float16 else None
    with torch.autocast(device.type, dtype):
        with torch.no_grad():
            weights = generator(inner['ir_crop'], inner['vis_y_crop'])
        f_loss = sum(loss(fusion(inner['ir_crop'], inner['vis_y_crop']),
                          inner['ir_crop'], inner['vis_y_crop'],
                          weights).values())
    if scaler is not None:
        scaler.scale(f_loss).backward()
        scaler.step(f_optim)
        scaler.update()
    else:
        f_loss.backward()
        f_optim.step()
    f_finite = all(torch.isfinite(p).all().item()
                   for p in fusion.parameters())
    tol = TOLERANCES['autocast_hypergradient_cosine']
    return dict(passed=finite and f_finite and cosine >= tol,
                hypergradient_relative_error=error,
                hypergradient_cosine=cosine, tolerance=tol,
                hypergradient_max=max(h.abs().max().item()
                                      for h in hyper[0]),
                finite=finite, lookahead_loss=runs['low'][1].item(),
                fusion_step_loss=f_loss.item(), fusion_step_finite=f_finite)


def fusion_batch(shape, crop, seed) -> dict:
    """One pair as the dataloader packs it (uint8, BGR visible image, crops)
    with a random label map."""
    gen = torch.Generator().manual_seed(seed)

    def image(channels, *size):
        return torch.randint(0, 256, (channels, *size), generator=gen,
                             dtype=torch.uint8)

    label = torch.randint(0, NUM_CLASSES, (1, *shape), generator=gen)
    return dict(
        inputs=dict(ir=[image(1, *shape)], vis=[image(3, *shape)],
                    ir_crop=[image(1, crop, crop)],
                    vis_crop=[image(3, crop, crop)]),
        data_samples=[BaseDataElement(gt_sem_seg=PixelData(data=label))])


def check_train_step(device, sizes) -> dict:
    """TDFusion's two phases (a meta pair, then F and T) with the stand-in
    T, in float32 and with each autocast dtype (float16:
    ``NonFiniteSkipAmpOptimWrapper`` for F and T, as ``--amp`` on a GPU).
    TDFusion needs mmengine's runner, and so OpenCV: without it this is
    skipped."""
    try:
        from mmengine.optim import OptimWrapperDict

        from tdfusion_mm.engine.optimizers import (
            BF16OptimWrapper, NonFiniteSkipAmpOptimWrapper,
            NonFiniteSkipOptimWrapper)
        from tdfusion_mm.models.algorithms import TDFusion
    except ImportError as error:
        return dict(passed=None, skipped=str(error))
    wrappers = {None: NonFiniteSkipOptimWrapper,
                torch.float16: NonFiniteSkipAmpOptimWrapper,
                torch.bfloat16: BF16OptimWrapper}
    inner, outer = (fusion_batch(sizes['task'], sizes['crop'], seed)
                    for seed in (0, 1))
    out, passed = {}, True
    for dtype in [None] + low_dtypes(device):
        torch.manual_seed(0)
        model = TDFusion(
            fusion_backbone=dict(type='ReFusion', **sizes['net']),
            loss_generator=dict(type='LossGenerationModule', **sizes['net']),
            fusion_loss=dict(type='LearnableFusionLoss'),
            task_model=stand_in_task_cfg(), task_in_channels=1).to(device)
        model.train()
        cls = wrappers[dtype]
        optim = OptimWrapperDict(
            fusion_backbone=cls(optimizer=torch.optim.Adam(
                model.fusion_backbone.parameters(), lr=1e-4)),
            loss_generator=NonFiniteSkipOptimWrapper(
                optimizer=torch.optim.SGD(model.loss_generator.parameters(),
                                          lr=1e-4)),
            task_model=cls(optimizer=torch.optim.Adam(
                model.task_model.parameters(), lr=1e-4)))
        g_before = [p.detach().clone()
                    for p in model.loss_generator.parameters()]
        meta = model.train_step(dict(inner=inner, outer=outer), optim)
        g_moved = any(not torch.equal(a, b) for a, b in zip(
            g_before, model.loss_generator.parameters()))
        ft = model.train_step(inner, optim)
        losses = {k: float(torch.as_tensor(v).detach())
                  for k, v in {**meta, **ft}.items()
                  if k.startswith('loss') or k == 'hypergrad_max'}
        finite = all(math.isfinite(v) for v in losses.values())
        skips = sum(w.nonfinite_skips for w in optim.values())
        ok = finite and g_moved and skips == 0
        name = 'float32' if dtype is None else str(dtype).split('.')[1]
        out[name] = dict(passed=ok, g_moved=g_moved,
                         hypergrad_max=losses['hypergrad_max'],
                         loss_task=losses['loss_task'])
        passed = passed and ok
    out['passed'] = passed
    return out


def time_fusion(device, sizes) -> list:
    """F's inference, pairs per second, float32 and low precision."""
    fusion, _ = networks(sizes['net'])
    fusion = fusion.to(device).eval()
    rows = []
    for shape in sizes['fuse']:
        x = pair(shape, batch=1, device=device)
        for dtype in [None] + low_dtypes(device)[:1]:
            with torch.inference_mode(), autocast_to(device.type, dtype):
                fusion(x['ir'], x['vis_y'])  # warm-up
                sync(device)
                reset_peak(device)
                times = []
                for _ in range(sizes['runs']):
                    start = time.perf_counter()
                    fused = fusion(x['ir'], x['vis_y'])
                    sync(device)
                    times.append(time.perf_counter() - start)
            rows.append(dict(
                size=f'{shape[0]}x{shape[1]}',
                dtype='float32' if dtype is None else
                str(dtype).split('.')[1],
                pairs_per_s=1 / statistics.median(times),
                median_s=statistics.median(times), runs=len(times),
                peak_mb=peak_mb(device),
                finite=bool(torch.isfinite(fused).all())))
    return rows


def time_meta_pair(device, sizes) -> dict:
    """One meta pair at the paper's MSRS sizes, float32."""
    (inner, outer), (lab_in, lab_out) = paired_batches(
        device, sizes['crop'], sizes['task'])
    fusion, generator, loss, task, t_optim = pair_setup(device, sizes)
    args = (fusion, generator, loss, task, t_optim, inner, outer, lab_in,
            lab_out)
    meta_pair(*args)  # warm-up
    sync(device)
    reset_peak(device)
    times = []
    for _ in range(max(1, sizes['runs'] // 2)):
        start = time.perf_counter()
        result, _ = meta_pair(*args)
        sync(device)
        times.append(time.perf_counter() - start)
    peak = peak_mb(device)
    return dict(inner_crops=f'2x{sizes["crop"]}x{sizes["crop"]}',
                outer_batch=f'2x{sizes["task"][0]}x{sizes["task"][1]}',
                median_s=statistics.median(times), runs=len(times),
                peak_gb=None if peak is None else peak / 1024,
                official_peak_gb=OFFICIAL_META_PAIR_GB,
                hypergradient_max=max(h.abs().max().item()
                                      for h in result.hypergrads.values()),
                finite=all(torch.isfinite(h).all().item()
                           for h in result.hypergrads.values()))


def environment(device) -> dict:
    """Device, versions, and the distributions this process imported."""
    distributions = importlib.metadata.packages_distributions()
    top = {name.split('.')[0] for name in list(sys.modules)}
    imported = sorted({d for t in top - set(sys.stdlib_module_names)
                       for d in distributions.get(t, [])})
    return dict(
        device=torch.cuda.get_device_name(device)
        if device.type == 'cuda' else platform.processor() or 'cpu',
        torch=torch.__version__, cuda=torch.version.cuda,
        python=platform.python_version(), threads=torch.get_num_threads(),
        imported_distributions=imported,
        openmmlab_task_libraries_loaded=sorted(
            t for t in ('mmcv', 'mmdet', 'mmseg', 'cv2') if t in top))


def markdown(report) -> str:
    env = report['environment']
    lines = [f"# Device check: {env['device']}", '',
             f"torch {env['torch']}, CUDA {env['cuda']}, Python "
             f"{env['python']}; smoke: {report['smoke']}; all passed: "
             f"{report['passed']}", '',
             '| check | passed | measured | tolerance |', '|---|---|---|---|']
    for name, res in report['checks'].items():
        measured = {k: v for k, v in res.items()
                    if k not in ('passed', 'tolerance')
                    and not isinstance(v, list)}
        lines.append(f"| {name} | {res['passed']} | "
                     f"{json.dumps(measured, default=str)} | "
                     f"{res.get('tolerance', '')} |")
    lines += ['', '| F inference | dtype | pairs/s | peak MB |',
              '|---|---|---|---|']
    for row in report['fusion']:
        peak = '' if row['peak_mb'] is None else f"{row['peak_mb']:.0f}"
        lines.append(f"| {row['size']} | {row['dtype']} | "
                     f"{row['pairs_per_s']:.2f} | {peak} |")
    meta = report['meta_pair']
    peak = 'n/a (CPU)' if meta['peak_gb'] is None else \
        f"{meta['peak_gb']:.2f}"
    lines += ['', '| meta pair | s | peak GB | official code, GB |',
              '|---|---|---|---|',
              f"| {meta['inner_crops']} crops, {meta['outer_batch']} outer | "
              f"{meta['median_s']:.3f} | {peak} | "
              f"{meta['official_peak_gb']} (CPU) |", '']
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--device', default=None,
                        help='cuda (default where present) or cpu')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny sizes: seconds on a CPU')
    args = parser.parse_args()
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    sizes = SIZES[args.smoke]
    start = time.perf_counter()
    checks = {}
    with full_float32():
        checks['networks'] = check_networks(device, sizes)
        for dtype in (torch.float64, torch.float32):
            checks[f'hypergradient_{str(dtype).split(".")[1]}'] = \
                check_hypergradient(device, dtype)
        checks['bands'] = check_bands(device, sizes)
        for dtype in low_dtypes(device):
            checks[f'autocast_{str(dtype).split(".")[1]}'] = \
                check_autocast(device, dtype, sizes)
        checks['train_step'] = check_train_step(device, sizes)
    report = dict(smoke=args.smoke, checks=checks,
                  fusion=time_fusion(device, sizes),
                  meta_pair=time_meta_pair(device, sizes))
    report['passed'] = all(c['passed'] is not False
                           for c in checks.values()) and all(
        r['finite'] for r in report['fusion']) and report['meta_pair'][
            'finite']
    report['seconds'] = time.perf_counter() - start
    report['environment'] = environment(device)
    os.makedirs(args.out_dir, exist_ok=True)
    with open(osp.join(args.out_dir, 'device_check.json'), 'w') as f:
        json.dump(report, f, indent=1, default=str)
    text = markdown(report)
    with open(osp.join(args.out_dir, 'device_check.md'), 'w') as f:
        f.write(text)
    print(text)
    print(f"{report['seconds']:.1f} s; written to {args.out_dir}")
    return 0 if report['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
