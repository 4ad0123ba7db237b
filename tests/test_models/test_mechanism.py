"""Does the meta loop teach G where the task information is?

A designed two-modality segmentation task (object vs background): half of
the objects are smooth warm blobs that only the infrared *intensity* shows,
the other half smooth bright blobs that only the visible intensity shows;
the visible image has strong texture everywhere. The blobs have no sharp
edge, so the max-gradient term of the fusion loss cannot carry them: only
the intensity term, weighted by G, decides whether F shows them. The right
weights are spatial: w_ir high on the infrared's objects, low on the
visible's, indifferent on the background.

A tiny F (ReFusion) and T (two convolutions and an FCN head, background
weighted 0.1 so that the objects dominate T's loss) go through the
package's own ``TDFusion.train_step``: F and T first learn on the fixed loss
(w = 0.5), so that T's task loss carries signal, then ``META_PAIRS`` meta
pairs update G only. G is a map of logits per position (the objects sit at
fixed places, jittered; T, a convolutional network, cannot use the
positions), so its w_ir is exactly what the meta pairs taught it. (With the
LPN as G, all pixels share its parameters and their common mode dominated:
G's mean weight drifted, its sign depending on the seed.)

Measured (seeds 0-3, 2026-11-29): w_ir on the infrared's objects
0.67-0.73, on the background 0.50-0.51, on the visible's objects
0.37-0.45. With the hypergradient's sign flipped, or w_ir and w_vis
exchanged in the fusion loss, the order reverses (run this file with
``python tests/test_models/test_mechanism.py`` to see all three).
"""
from contextlib import contextmanager

import numpy as np
import torch
import pytest
from mmengine.model import BaseModule
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.structures import SegDataSample
from torch import nn

from tdfusion_mm.registry import MODELS

SIZE = 32
BATCH = 4
WARM_ITERS = 150  # F and T on the fixed loss
META_PAIRS = 10
G_MOVEMENT = 1.0  # G's total movement: lr x meta pairs (max-normalised)
# Required order of G's w_ir: the infrared's objects above the background
# by IR_MARGIN, the background above the visible's objects by VIS_MARGIN.
IR_MARGIN = 0.1
VIS_MARGIN = 0.03
CONTRAST = 0.35
TEXTURE = 0.15
RADIUS = 4.0
IR_CENTRES = ((9, 9), (23, 23))
VIS_CENTRES = ((9, 23), (23, 9))


class MechanismTinyBackbone(BaseModule):
    """Two 5x5 convolutions: enough context to tell a blob from texture."""

    def __init__(self, channels: int = 8):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, channels, 5, padding=2), nn.LeakyReLU(0.1),
            nn.Conv2d(channels, channels, 5, padding=2), nn.LeakyReLU(0.1))

    def forward(self, x):
        return (self.layers(x), )


class MechanismPositionalGenerator(BaseModule):
    """A G that knows only where a pixel is: one pair of logits per
    position, so its w_ir map is exactly what the meta step taught it."""

    def __init__(self, size: int = 32):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(1, 2, size, size))

    def forward(self, ir, vis):
        return self.logits.softmax(1).expand(ir.shape[0], -1, -1, -1)


@contextmanager
def registered():
    """The test's own G and T backbone in the registries, only while the
    model is built (so that no other test sees them)."""
    entries = ((MODELS, MechanismPositionalGenerator),
               (MMSEG_MODELS, MechanismTinyBackbone))
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


def build_model(seed, swap_weights=False):
    """TDFusion with the tiny F, G and T, and its three optimizers (G's:
    SGD, the package's max-normalised step, lr = movement / pairs)."""
    init_default_scope('tdfusion_mm')
    torch.manual_seed(seed)
    with registered():
        model = build_tdfusion()
    model.init_weights()
    if swap_weights:
        loss = model.fusion_loss
        forward = loss.forward
        loss.forward = lambda f, ir, vis, w: forward(f, ir, vis, w.flip(1))
    optims = OptimWrapperDict(
        fusion_backbone=OptimWrapper(torch.optim.Adam(
            model.fusion_backbone.parameters(), lr=1e-2)),
        loss_generator=OptimWrapper(torch.optim.SGD(
            model.loss_generator.parameters(), lr=G_MOVEMENT / META_PAIRS)),
        task_model=OptimWrapper(torch.optim.Adam(
            model.task_model.parameters(), lr=1e-2)))
    return model, optims


def build_tdfusion():
    """The tiny TDFusion: ReFusion (dim 4), the positional G, a small
    mmseg segmentor whose loss weighs the background 0.1."""
    return MODELS.build(dict(
        type='TDFusion',
        fusion_backbone=dict(type='ReFusion', dim=4, num_blocks=1,
                             num_heads=1),
        loss_generator=dict(type='MechanismPositionalGenerator', size=SIZE),
        fusion_loss=dict(type='LearnableFusionLoss'),
        task_model=dict(
            _scope_='mmseg', type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor',
                                   mean=[0., 0., 0.], std=[255., 255., 255.],
                                   size_divisor=1),
            backbone=dict(type='MechanismTinyBackbone'),
            decode_head=dict(type='FCNHead', in_channels=8, channels=8,
                             num_convs=1, concat_input=False, num_classes=2,
                             act_cfg=dict(type='LeakyReLU',
                                          negative_slope=0.1),
                             norm_cfg=None, align_corners=False,
                             loss_decode=dict(type='CrossEntropyLoss',
                                              class_weight=[0.1, 1.0])),
            train_cfg=dict(), test_cfg=dict(mode='whole')),
        swap_modalities=False, inner_lr=1e-2))


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


def run(seed=0, flip_sign=False, swap_weights=False):
    """Warm up F and T on the fixed loss, then meta pairs.

    Returns:
        ndarray: G's mean w_ir on background, infrared's objects, visible's
        objects.
    """
    model, optims = build_model(seed, swap_weights)
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(WARM_ITERS):  # G is not stepped: w stays 0.5
        model.train_step(make_batch(rng), optims)
    if flip_sign:
        average = model.average_hypergrads

        def flipped(hypergrads):
            for grad in hypergrads.values():
                grad.neg_()
            return average(hypergrads)
        model.average_hypergrads = flipped
    for _ in range(META_PAIRS):
        model.train_step(dict(inner=make_batch(rng), outer=make_batch(rng)),
                         optims)
    return w_ir_by_class(model, np.random.default_rng(1000))


@pytest.fixture
def one_thread_no_denormals():
    """One thread, denormals flushed: the tiny networks' weights decay into
    subnormal floats that slowed one run 20-fold; flushing works only on
    the calling thread, so the run must not use worker threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    yield
    torch.set_flush_denormal(False)
    torch.set_num_threads(threads)


# mmseg suggests a one-channel head for two classes; two channels are what
# a user's segmentor has.
@pytest.mark.filterwarnings('ignore:For binary segmentation')
@pytest.mark.parametrize('seed', [0, 1])
def test_g_learns_where_the_infrared_carries_the_task(
        seed, one_thread_no_denormals):
    background, ir_objects, vis_objects = run(seed)
    assert ir_objects > background + IR_MARGIN, (background, ir_objects)
    assert vis_objects < background - VIS_MARGIN, (background, vis_objects)


if __name__ == '__main__':
    import time
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    for name, kw in (('as is', {}), ('sign flipped', dict(flip_sign=True)),
                     ('w_ir/w_vis exchanged', dict(swap_weights=True))):
        for seed in range(4):
            start = time.time()
            w_ir = run(seed, **kw)
            print(f'{name:20s} seed {seed}: w_ir on background '
                  f'{w_ir[0]:.3f}, infrared objects {w_ir[1]:.3f}, visible '
                  f'objects {w_ir[2]:.3f} ({time.time() - start:.0f} s)',
                  flush=True)
