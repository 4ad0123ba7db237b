"""Does the meta loop teach G where the task information is?

A designed two-modality segmentation task (object vs background): half of
the objects are smooth warm blobs that only the infrared *intensity* shows,
the other half smooth bright blobs that only the visible intensity shows;
the visible image has strong texture everywhere. The blobs have no sharp
edge, so the max-gradient term of the fusion loss cannot carry them: only
the intensity term, weighted by G, decides whether F shows them. The right
weights are spatial: w_ir high on the infrared's objects, low on the
visible's, indifferent on the background.

T is fixed and known ("fit F to the segmentor I have"): a frozen mmseg
segmentor whose object logit is ``GAIN * (box blur of the fused image -
THRESHOLD)``, i.e. "a bright smooth region is an object". It has no
training noise, so the direction of the hypergradient is a property of the
method, not of a T trained from random weights (whose trajectory depends on
the machine's rounding). A tiny F (ReFusion) and a G that is one pair of
logits per position (so its w_ir map is exactly what the meta pairs taught
it; the objects sit at fixed places, jittered) go through the package's own
``TDFusion.train_step``: ``META_PAIRS`` meta pairs with small steps of G
(its total movement ``G_MOVEMENT``, max-normalised as in the paper).

Controls: with the hypergradient's sign flipped, or w_ir and w_vis
exchanged in the fusion loss, the order reverses. The LPN with
``centre_logits=True`` (one block of 4 channels) learns the same order.
Run ``python tests/test_models/test_mechanism.py --seeds 8 --threads 1 2``
(``--generator centred_lpn`` or ``lpn``, ``--movement M``) to see the
margins of all three over seeds and thread counts.
"""
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.optim import OptimWrapperDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.structures import SegDataSample
from torch import nn

from tdfusion_mm.engine.optimizers import NonFiniteSkipOptimWrapper
from tdfusion_mm.models.algorithms import generator_step
from tdfusion_mm.registry import MODELS

SIZE = 32
BATCH = 4
META_PAIRS = 40
G_MOVEMENT = 1.0  # G's total movement: lr x meta pairs (max-normalised)
# The oracle T: object logit = GAIN * (5x5 mean of the fused - THRESHOLD).
GAIN = 20.0
THRESHOLD = 0.6
# Required order of G's w_ir: the infrared's objects above the background
# by MARGIN, the background above the visible's objects by MARGIN (about a
# third of the smallest gap measured over 8 seeds, 1 and 2 threads).
MARGIN = 0.05
CONTRAST = 0.35
TEXTURE = 0.15
RADIUS = 4.0
IR_CENTRES = ((9, 9), (23, 23))
VIS_CENTRES = ((9, 23), (23, 9))


class MechanismOracleBackbone(BaseModule):
    """``GAIN * (mean filter of the image - THRESHOLD)``, one channel: the
    object evidence of a fixed segmentor (no parameters)."""

    def forward(self, x):
        smooth = F.avg_pool2d(x.mean(1, keepdim=True), 5, 1, 2,
                              count_include_pad=False)
        return (GAIN * (smooth - THRESHOLD), )


class MechanismPositionalGenerator(BaseModule):
    """A G that knows only where a pixel is: one pair of logits per
    position, so its w_ir map is exactly what the meta step taught it."""

    def __init__(self, size: int = 32):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(1, 2, size, size))

    def forward(self, ir, vis_y):
        return self.logits.softmax(1).expand(ir.shape[0], -1, -1, -1)


@contextmanager
def registered():
    """The test's own G and T backbone in the registries, only while the
    model is built (so that no other test sees them)."""
    entries = ((MODELS, MechanismPositionalGenerator),
               (MMSEG_MODELS, MechanismOracleBackbone))
    for registry, cls in entries:
        registry.register_module(module=cls, force=True)
    try:
        yield
    finally:
        for registry, cls in entries:
            registry._module_dict.pop(cls.__name__, None)


def blob(yy, xx, cy, cx, radius):
    """A smooth Gaussian blob, 1 at its centre."""
    return np.exp(-((yy - cy)**2 + (xx - cx)**2) / (2 * radius**2))


def make_pair(rng):
    """One pair: infrared and visible luma (uint8) and where the objects
    are: 0 background, 1 shown by the infrared, 2 shown by the visible."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    ir = np.full((SIZE, SIZE), 0.5, np.float32)
    vis = 0.5 + TEXTURE * rng.choice([-1., 1.], size=(SIZE, SIZE))
    where = np.zeros((SIZE, SIZE), np.int64)
    for kind, centres in ((1, IR_CENTRES), (2, VIS_CENTRES)):
        for cy, cx in centres:
            cy, cx = cy + rng.uniform(-1, 1), cx + rng.uniform(-1, 1)
            shape = blob(yy, xx, cy, cx, RADIUS)
            if kind == 1:
                ir += CONTRAST * shape
            else:
                vis += CONTRAST * shape
            where[shape > 0.5] = kind
    to_u8 = lambda a: np.clip(a * 255, 0, 255).astype(np.uint8)  # noqa
    return to_u8(ir), to_u8(vis), where


def make_batch(rng):
    """A training batch as the dataloader gives it (mmseg data samples)."""
    irs, viss, samples = [], [], []
    for _ in range(BATCH):
        ir, vis, where = make_pair(rng)
        irs.append(torch.from_numpy(ir)[None])
        viss.append(torch.from_numpy(vis)[None])
        sample = SegDataSample(metainfo=dict(img_shape=(SIZE, SIZE),
                                             ori_shape=(SIZE, SIZE)))
        objects = torch.from_numpy(where > 0).long()[None]
        sample.gt_sem_seg = PixelData(data=objects)
        sample.where = torch.from_numpy(where)  # for the measurement only
        samples.append(sample)
    return dict(inputs=dict(ir=irs, vis=viss), data_samples=samples)


POSITIONAL_G = dict(type='MechanismPositionalGenerator', size=SIZE)
# The LPN (one block of 4 channels) with its logit difference centred per
# image and a learned global balance.
CENTRED_LPN = dict(type='LossGenerationModule', dim=4, num_blocks=1,
                   num_heads=1, centre_logits=True)


def build_tdfusion(generator=POSITIONAL_G):
    """The tiny TDFusion: ReFusion (dim 4), G, the frozen oracle
    segmentor (background weighted 0.1 in its loss)."""
    model = MODELS.build(dict(
        type='TDFusion',
        fusion_backbone=dict(type='ReFusion', dim=4, num_blocks=1,
                             num_heads=1),
        loss_generator=generator,
        fusion_loss=dict(type='LearnableFusionLoss'),
        task_model=dict(
            _scope_='mmseg', type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor',
                                   mean=[0., 0., 0.], std=[255., 255., 255.],
                                   size_divisor=1),
            backbone=dict(type='MechanismOracleBackbone'),
            decode_head=dict(type='FCNHead', in_channels=1, channels=1,
                             num_convs=0, concat_input=False, num_classes=2,
                             dropout_ratio=0., norm_cfg=None,
                             align_corners=False,
                             loss_decode=dict(type='CrossEntropyLoss',
                                              class_weight=[0.1, 1.0])),
            train_cfg=dict(), test_cfg=dict(mode='whole')),
        swap_modalities=False, inner_lr=1e-2))
    model.init_weights()
    # The head passes the evidence on as the object logit (background 0).
    head = model.task_model.decode_head.conv_seg
    with torch.no_grad():
        head.weight.copy_(torch.tensor([0., 1.]).view(2, 1, 1, 1))
        head.bias.zero_()
    return model


def build_model(seed, swap_weights=False, generator=POSITIONAL_G):
    """TDFusion and its two optimizers (T, without one, is frozen); G's is
    SGD on the package's max-normalised hypergradient, lr = movement /
    pairs."""
    init_default_scope('tdfusion_mm')
    torch.manual_seed(seed)
    with registered():
        model = build_tdfusion(generator)
    if swap_weights:
        loss = model.fusion_loss
        forward = loss.forward
        loss.forward = lambda f, ir, vis_y, w: forward(f, ir, vis_y, w.flip(1))
    optims = OptimWrapperDict(
        fusion_backbone=NonFiniteSkipOptimWrapper(torch.optim.Adam(
            model.fusion_backbone.parameters(), lr=1e-2)),
        loss_generator=NonFiniteSkipOptimWrapper(torch.optim.SGD(
            model.loss_generator.parameters(), lr=G_MOVEMENT / META_PAIRS)))
    return model, optims


def w_ir_by_class(model, rng, batches=4):
    """Mean w_ir of G on background, infrared objects, visible objects."""
    sums, counts = np.zeros(3), np.zeros(3)
    with torch.no_grad():
        for _ in range(batches):
            data = model.data_preprocessor(make_batch(rng), False)
            w_ir = model.loss_weights(data['inputs']['ir'],
                                      data['inputs']['vis'])[:, 0]
            labels = torch.stack([s.where for s in data['data_samples']])
            for cls in range(3):
                sums[cls] += w_ir[labels == cls].sum().item()
                counts[cls] += (labels == cls).sum().item()
    return sums / counts


def run(seed=0, flip_sign=False, swap_weights=False, generator=POSITIONAL_G):
    """``META_PAIRS`` meta pairs from a fresh F and G (``generator``'s
    config).

    Returns:
        ndarray: G's mean w_ir on background, infrared's objects, visible
        objects.
    """
    model, optims = build_model(seed, swap_weights, generator)
    rng = np.random.default_rng(seed)
    model.train()
    average = generator_step.average_hypergrads

    def flipped(hypergrads):
        for grad in hypergrads.values():
            grad.neg_()
        return average(hypergrads)

    with mock.patch.object(generator_step, 'average_hypergrads',
                           flipped if flip_sign else average):
        for _ in range(META_PAIRS):
            model.train_step(
                dict(inner=make_batch(rng), outer=make_batch(rng)), optims)
    return w_ir_by_class(model, np.random.default_rng(1000))


@contextmanager
def threads_no_denormals(threads):
    """``threads`` intra-op threads, denormals flushed (tiny networks'
    weights can decay into slow subnormal floats)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(before)


def ordered(w_ir):
    """The required order: infrared objects > background > visible
    objects, each by MARGIN."""
    background, ir_objects, vis_objects = w_ir
    return (ir_objects > background + MARGIN
            and vis_objects < background - MARGIN)


def reversed_order(w_ir):
    """The opposite order, each by MARGIN."""
    background, ir_objects, vis_objects = w_ir
    return (ir_objects < background - MARGIN
            and vis_objects > background + MARGIN)


# mmseg suggests a one-channel head for two classes; two channels are what
# a user's segmentor has.
pytestmark = pytest.mark.filterwarnings('ignore:For binary segmentation')


@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('seed', [0, 1])
def test_g_learns_where_the_infrared_carries_the_task(seed, threads):
    with threads_no_denormals(threads):
        w_ir = run(seed)
    assert ordered(w_ir), w_ir


def test_centred_lpn_learns_where():
    """The LPN with ``centre_logits``: its shared parameters shape only
    the spatial part, so it learns the same order as the positional G."""
    with threads_no_denormals(1):
        w_ir = run(0, generator=CENTRED_LPN)
    assert ordered(w_ir), w_ir


@pytest.mark.parametrize('control', ['flip_sign', 'swap_weights'])
def test_controls_reverse_the_order(control):
    """A sign error in the hypergradient, or the weights paired with the
    wrong source, would teach G the opposite map: the test above tells."""
    with threads_no_denormals(1):
        w_ir = run(0, **{control: True})
    assert reversed_order(w_ir), w_ir


if __name__ == '__main__':
    import argparse
    import time

    from mmengine.logging import MMLogger
    parser = argparse.ArgumentParser(description='margins over seeds')
    parser.add_argument('--seeds', type=int, default=8)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--generator', default='positional',
                        choices=['positional', 'centred_lpn', 'lpn'])
    parser.add_argument('--movement', type=float, default=G_MOVEMENT)
    args = parser.parse_args()
    G_MOVEMENT = args.movement
    generator = dict(positional=POSITIONAL_G, centred_lpn=CENTRED_LPN,
                     lpn=dict(CENTRED_LPN, centre_logits=False))[
                         args.generator]
    MMLogger.get_instance('mmengine').setLevel('ERROR')  # init reports
    for name, kw in (('as is', {}), ('sign flipped', dict(flip_sign=True)),
                     ('w_ir/w_vis exchanged', dict(swap_weights=True))):
        for threads in args.threads:
            for seed in range(args.seeds):
                start = time.time()
                with threads_no_denormals(threads):
                    bg, ir, vis = run(seed, generator=generator, **kw)
                print(f'{name:20s} {threads} thr seed {seed}: w_ir on '
                      f'background {bg:.3f}, infrared objects {ir:.3f}, '
                      f'visible objects {vis:.3f}; ir - bg {ir - bg:+.3f}, '
                      f'bg - vis {bg - vis:+.3f} ({time.time() - start:.1f} s)',
                      flush=True)
