"""F, G, the fusion loss and the meta step import and run without mmcv,
mmdet, mmseg, OpenCV and matplotlib (as on a bare GPU machine)."""
from helpers import ABSENT_ON_BARE_MACHINE, run_without

CODE = """
import importlib
for name in {absent!r}:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
    else:
        raise AssertionError(name + ' imported')

import torch
from tdfusion_mm.models.fusion_backbones import ReFusion
from tdfusion_mm.models.loss_generators import LossGenerationModule
from tdfusion_mm.models.losses import LearnableFusionLoss
from tdfusion_mm.models.meta import meta_hypergradient

torch.manual_seed(0)
net = dict(dim=4, num_blocks=1, num_heads=2)
fusion, generator = ReFusion(**net), LossGenerationModule(**net)
pair = dict(ir=torch.rand(1, 1, 8, 8), vis_y=torch.rand(1, 1, 8, 8))
result = meta_hypergradient(fusion, generator, LearnableFusionLoss(), pair,
                            pair, lambda fused: fused.mean(), 0.1)
assert all(torch.isfinite(g).all() for g in result.hypergrads.values())
print('hypergradient max', max(g.abs().max().item()
                               for g in result.hypergrads.values()))
import sys
print('loaded', sorted(n for n in {absent!r} if n in sys.modules))
try:
    from tdfusion_mm.models import TDFusion
except ImportError as error:
    print('TDFusion:', error)
"""


def test_networks_loss_and_meta_step_need_no_openmmlab_task_libraries():
    out = run_without(ABSENT_ON_BARE_MACHINE,
                      CODE.format(absent=ABSENT_ON_BARE_MACHINE))
    assert 'hypergradient max' in out, out
    assert 'loaded []' in out, out
    # The algorithm needs mmengine's runner, which needs OpenCV: it is only
    # imported on demand.
    assert 'TDFusion: cv2 is absent' in out, out
