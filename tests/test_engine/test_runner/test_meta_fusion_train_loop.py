"""MetaFusionTrainLoop's resume metadata, without a runner."""
import pytest

from tdfusion_mm.engine.runner import (PHASE_FUSION_TASK, PHASE_META,
                                      MetaFusionTrainLoop)


def bare_loop(meta_steps, batches):
    loop = MetaFusionTrainLoop.__new__(MetaFusionTrainLoop)
    loop.meta_steps, loop.dataloader = meta_steps, [None] * batches
    return loop


def test_checkpoint_meta_records_where_a_resumed_run_starts():
    loop = bare_loop(meta_steps=3, batches=5)  # 8 iterations per epoch
    meta = dict(epoch=1, iter=10)
    loop.checkpoint_meta(meta)
    assert meta['tdfusion_loop'] == dict(position=2, next_phase=PHASE_META,
                                         meta_steps=3, iters_per_epoch=8)
    meta = dict(epoch=1, iter=11)
    loop.checkpoint_meta(meta)
    assert meta['tdfusion_loop']['next_phase'] == PHASE_FUSION_TASK
    meta = dict(epoch=1)  # saved by epoch: nothing to record
    loop.checkpoint_meta(meta)
    assert 'tdfusion_loop' not in meta


def test_check_checkpoint_meta_refuses_another_epoch_layout():
    saved = dict(epoch=0, iter=4)
    bare_loop(3, 5).checkpoint_meta(saved)
    bare_loop(3, 5).check_checkpoint_meta(saved)
    bare_loop(3, 5).check_checkpoint_meta({})  # an older checkpoint
    with pytest.raises(ValueError, match='meta_steps=3 and 8 .*'
                       'meta_steps=2 and 7'):
        bare_loop(2, 5).check_checkpoint_meta(saved)
