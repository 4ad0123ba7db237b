"""LearnableFusionLossHook checks the saved epoch layout on resume only."""
from types import SimpleNamespace

import pytest

from tdfusion_mm.engine.hooks import LearnableFusionLossHook
from tdfusion_mm.engine.runner import MetaFusionTrainLoop


def loop_with(meta_steps, batches):
    loop = MetaFusionTrainLoop.__new__(MetaFusionTrainLoop)
    loop.meta_steps, loop.dataloader = meta_steps, [None] * batches
    return loop


def test_layout_checked_on_resume_but_not_on_load_from():
    meta = dict(epoch=0, iter=4)
    loop_with(0, 5).checkpoint_meta(meta)  # e.g. a fixed-loss warm start
    checkpoint = dict(meta=meta)
    hook = LearnableFusionLossHook()
    # load_from: a new schedule (meta pairs added) starts from the weights.
    hook.after_load_checkpoint(
        SimpleNamespace(_resume=False, _train_loop=loop_with(3, 5)),
        checkpoint)
    with pytest.raises(ValueError, match='Cannot resume'):
        hook.after_load_checkpoint(
            SimpleNamespace(_resume=True, _train_loop=loop_with(3, 5)),
            checkpoint)
