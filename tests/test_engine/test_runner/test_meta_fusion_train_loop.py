"""MetaFusionTrainLoop without a runner: its epoch, resume metadata and G's
step budget."""
from types import SimpleNamespace

import pytest
import torch

from tdfusion_mm.engine.runner import (PHASE_FUSION_TASK, PHASE_META,
                                      MetaFusionTrainLoop)


def bare_loop(meta_steps, batches):
    loop = MetaFusionTrainLoop.__new__(MetaFusionTrainLoop)
    loop.meta_steps, loop.dataloader = meta_steps, [None] * batches
    loop.meta_batch_size = None
    return loop


def epoch_loop(meta_steps, batches, done=0):
    """A loop over batches 0..batches-1 that records its iterations (index,
    phase, batch) and the hooks it calls, ``done`` iterations into epoch 0."""
    loop = bare_loop(meta_steps, batches)
    loop.dataloader = list(range(batches))
    loop._epoch, loop._iter, loop._max_epochs = 0, done, 1
    loop.reseed_every_iter = False
    hooks, iters = [], []
    loop._runner = SimpleNamespace(
        call_hook=hooks.append,
        model=SimpleNamespace(train=lambda: hooks.append('model.train')))
    loop.run_iter = lambda idx, batch: iters.append((idx, loop.phase, batch))
    return loop, hooks, iters


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


def test_epoch_is_meta_pairs_of_consecutive_batches_then_one_pass():
    loop, hooks, iters = epoch_loop(meta_steps=2, batches=3)
    loop.run_epoch()
    assert iters == [
        (0, PHASE_META, dict(inner=0, outer=1)),
        (1, PHASE_META, dict(inner=2, outer=0)),  # the batches cycle
        (2, PHASE_FUSION_TASK, 0), (3, PHASE_FUSION_TASK, 1),
        (4, PHASE_FUSION_TASK, 2)]
    assert hooks == ['before_train_epoch', 'model.train', 'after_train_epoch']
    assert loop._epoch == 1


def collated(*ids):
    """A collated batch of the samples ``ids``."""
    return dict(inputs=dict(ir=[f'ir{i}' for i in ids],
                            vis=[f'vis{i}' for i in ids]),
                data_samples=[f'sample{i}' for i in ids])


class Batches(list):
    """A dataloader's stand-in: its batches and its dataset."""

    @property
    def dataset(self):
        return [s for batch in self for s in batch['data_samples']]


def test_meta_batch_size_splits_one_batch_into_inner_and_outer():
    loop, _, iters = epoch_loop(meta_steps=2, batches=0)
    # Four samples a batch; the epoch's last batch is short (3 samples).
    loop.dataloader = Batches([collated(0, 1, 2, 3), collated(4, 5, 6)])
    loop.meta_batch_size = 2
    loop.run_epoch()
    pairs = [batch for _, phase, batch in iters if phase == PHASE_META]
    assert pairs == [dict(inner=collated(0, 1), outer=collated(2, 3))] * 2
    # Every batch short: a clear error, not an endless search.
    loop, _, _ = epoch_loop(meta_steps=1, batches=0)
    loop.dataloader = Batches([collated(0, 1, 2)])
    loop.meta_batch_size = 2
    with pytest.raises(RuntimeError, match='meta_batch_size=2: no batch '
                       '.* has 4 samples'):
        loop.run_epoch()


def test_resumed_epoch_skips_the_iterations_done():
    loop, _, iters = epoch_loop(meta_steps=2, batches=3, done=3)
    loop.run_epoch()
    assert iters == [(3, PHASE_FUSION_TASK, 1), (4, PHASE_FUSION_TASK, 2)]
    loop, _, _ = epoch_loop(meta_steps=2, batches=3, done=6)
    with pytest.raises(RuntimeError, match='does not fall inside'):
        loop.run_epoch()


def test_resumed_after_the_last_iteration_only_ends_the_epoch():
    """An iteration checkpoint saved after the epoch's last iteration
    (epoch e, iteration (e + 1) x iterations per epoch)."""
    loop, hooks, iters = epoch_loop(meta_steps=2, batches=3, done=5)
    loop.run_epoch()
    assert iters == []
    assert hooks == ['before_train_epoch', 'model.train', 'after_train_epoch']
    assert loop._epoch == 1


def test_meta_phase_on_an_empty_dataloader_is_an_error():
    loop, _, _ = epoch_loop(meta_steps=1, batches=0)
    with pytest.raises(RuntimeError, match='dataloader is empty'):
        loop.run_epoch()


def test_generator_movement_sets_g_lr_and_its_scheduler_base():
    loop = bare_loop(meta_steps=4, batches=2)
    loop._max_epochs, loop.generator_movement = 5, 0.8
    assert loop.generator_lr == pytest.approx(0.04)
    g = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(g.parameters(), lr=1.0)
    scheduler = SimpleNamespace(param_name='lr', base_values=[1.0])
    loop._runner = SimpleNamespace(
        optim_wrapper=dict(loss_generator=SimpleNamespace(
            optimizer=optimizer)),
        model=SimpleNamespace(normalize_hypergrad=True),
        param_schedulers=dict(loss_generator=[scheduler]))
    loop._set_generator_lr(loop.generator_lr)
    group = optimizer.param_groups[0]
    assert group['lr'] == group['initial_lr'] == pytest.approx(0.04)
    assert scheduler.base_values == [pytest.approx(0.04)]
    loop._runner.model.normalize_hypergrad = False
    with pytest.raises(ValueError, match='normalize_hypergrad'):
        loop._set_generator_lr(0.04)
    loop._runner.optim_wrapper = {}
    with pytest.raises(KeyError, match='loss_generator'):
        loop._set_generator_lr(0.04)


@pytest.mark.parametrize('meta_batch_size', [0, 3, 1.5])
def test_meta_batch_size_beyond_half_a_batch_is_refused(meta_batch_size):
    loader = torch.utils.data.DataLoader(list(range(8)), batch_size=4)
    runner = SimpleNamespace(build_dataloader=lambda d, **kw: d)
    with pytest.raises(ValueError, match='meta_batch_size must be an '
                       r'integer from 1 to half of .*\(4\)'):
        MetaFusionTrainLoop(runner, loader, max_epochs=1, meta_steps=1,
                            meta_batch_size=meta_batch_size)
    MetaFusionTrainLoop(runner, loader, max_epochs=1, meta_steps=1,
                        meta_batch_size=2)
