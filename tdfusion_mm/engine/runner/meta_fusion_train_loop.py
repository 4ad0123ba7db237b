"""The epoch loop of TDFusion: learn G on meta pairs, then learn F and T."""
from typing import Dict, Iterator, List, Optional, Tuple, Union

from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, set_random_seed
from torch.utils.data import DataLoader

from tdfusion_mm.registry import LOOPS
from tdfusion_mm.utils.checkpoint import ResumeMismatchError
from tdfusion_mm.utils.model_wrappers import unwrap

PHASE_META = 'meta'
PHASE_FUSION_TASK = 'fusion_task'
# Batch samplers whose buckets outlive an unfinished iterator.
STATEFUL_BATCH_SAMPLERS = ('AspectRatioBatchSampler',
                           'MultiDataAspectRatioBatchSampler')


@LOOPS.register_module()
class MetaFusionTrainLoop(EpochBasedTrainLoop):
    """Each epoch: ``meta_steps`` meta pairs, then one pass over the data.

    A meta pair is two consecutive batches of the training dataloader (the
    inner and the outer batch), given to the model as
    ``dict(inner=..., outer=...)``; it updates G only. With
    ``meta_batch_size`` k, both come from one batch instead: its first k
    samples are the inner batch, the next k the outer one (a batch with
    fewer than 2k samples is passed over). The pass that follows
    updates F and T on every batch. Both count as iterations, so
    ``max_iters = max_epochs * (meta_steps + len(dataloader))`` and hooks see
    every one of them; :attr:`phase` tells which phase is running.

    Resuming inside an epoch: a checkpoint saved after iteration ``i``
    (``CheckpointHook(by_epoch=False)``) records ``i``; the resumed epoch
    skips the iterations already done (their batches are drawn and dropped,
    so the data order is kept). With ``reseed_every_iter`` every iteration
    starts by seeding all generators from (seed, iteration), before its
    batches are loaded, so that a resumed run repeats the uninterrupted one
    exactly when data loading happens in the main process
    (``num_workers=0``); worker processes keep their own generators.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader or dict): The training dataloader.
        max_epochs (int): Number of epochs.
        meta_steps (int): Meta pairs per epoch (200 in the paper). 0 trains F
            and T with G fixed. Defaults to 200.
        reseed_every_iter (bool): Seed the generators at every iteration from
            the run's seed and the iteration number. Defaults to True.
        generator_movement (float, optional): G's step budget. G's update
            (SGD on its max-normalised hypergradient) moves no weight of G
            by more than its learning rate per meta pair, so ``lr x meta
            pairs of the run`` bounds how far any weight can move. If set,
            a fresh run sets G's learning rate to ``generator_movement /
            (max_epochs * meta_steps)`` so that this bound is the same
            whatever the schedule (a later decay of the rate, e.g. by
            ``StepLR``, lowers it). The paper's is ``1e-4 x 40 x 200 = 0.8``.
            None keeps the optimizer's own rate. Defaults to None.
        meta_batch_size (int, optional): Samples in each batch of a meta
            pair, at most half the dataloader's batch size (a meta pair
            costs about this many times one sample's; smaller meta batches
            buy more, smaller steps of G). None: two whole batches.
            Defaults to None.
        val_begin (int): First epoch to validate. Defaults to 1.
        val_interval (int): Validation interval in epochs. Defaults to 1.
        dynamic_intervals (list, optional): See ``EpochBasedTrainLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 meta_steps: int = 200,
                 reseed_every_iter: bool = True,
                 generator_movement: Optional[float] = None,
                 meta_batch_size: Optional[int] = None,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None):
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        if int(meta_steps) != meta_steps or meta_steps < 0:
            raise ValueError('train_cfg.meta_steps must be a non-negative '
                             f'integer, got {meta_steps}')
        stateful = type(self.dataloader.batch_sampler).__name__
        if stateful in STATEFUL_BATCH_SAMPLERS:
            raise ValueError(
                f'MetaFusionTrainLoop: train_dataloader.batch_sampler '
                f'{stateful} keeps samples between iterators, and the meta '
                'phase leaves one unfinished every epoch, so later passes '
                'would repeat and drop samples: remove it from the config')
        self.meta_steps = int(meta_steps)
        self.reseed_every_iter = reseed_every_iter
        if generator_movement is not None and not (
                generator_movement > 0 and self.meta_steps > 0):
            raise ValueError(
                'train_cfg.generator_movement must be positive and needs '
                f'meta_steps > 0, got {generator_movement} with meta_steps='
                f'{self.meta_steps}')
        self.generator_movement = generator_movement
        batch_size = getattr(self.dataloader, 'batch_size', None)
        if meta_batch_size is not None and not (
                int(meta_batch_size) == meta_batch_size
                and 1 <= meta_batch_size
                and (batch_size is None or 2 * meta_batch_size <= batch_size)):
            raise ValueError(
                'train_cfg.meta_batch_size must be an integer from 1 to half '
                f'of train_dataloader.batch_size ({batch_size}), got '
                f'{meta_batch_size}')
        self.meta_batch_size = meta_batch_size
        self._max_iters = self._max_epochs * self.iters_per_epoch
        self.phase = PHASE_FUSION_TASK

    @property
    def iters_per_epoch(self) -> int:
        """Meta pairs plus batches of one pass."""
        return self.meta_steps + len(self.dataloader)

    @property
    def position(self) -> int:
        """Iterations of the current epoch already run."""
        return self._iter - self._epoch * self.iters_per_epoch

    @property
    def generator_lr(self) -> Optional[float]:
        """G's learning rate from ``generator_movement`` (None if unset)."""
        if self.generator_movement is None:
            return None
        return self.generator_movement / (self._max_epochs * self.meta_steps)

    def checkpoint_meta(self, meta: dict) -> None:
        """Record, under ``meta['tdfusion_loop']`` of a checkpoint about to
        be saved, where a run resumed from it starts: the position inside
        ``meta['epoch']``, the phase it starts in, and the epoch layout
        (``meta_steps``, iterations per epoch) that position assumes."""
        if 'iter' not in meta:
            return
        position = meta['iter'] - meta['epoch'] * self.iters_per_epoch
        meta['tdfusion_loop'] = dict(
            position=position,
            next_phase=(PHASE_META if position < self.meta_steps else
                        PHASE_FUSION_TASK),
            meta_steps=self.meta_steps,
            iters_per_epoch=self.iters_per_epoch)

    def check_checkpoint_meta(self, meta: dict, source: str = 'the checkpoint',
                              target: str = 'the config') -> None:
        """Refuse to resume from a checkpoint whose epoch layout differs
        from this loop's (its position would be wrong); the error names
        ``source`` and ``target``."""
        saved = meta.get('tdfusion_loop')
        if saved is None:
            return
        current = dict(meta_steps=self.meta_steps,
                       iters_per_epoch=self.iters_per_epoch)
        if any(saved[k] != v for k, v in current.items()):
            raise ResumeMismatchError(
                f'Cannot resume from {source} with {target}: it was saved '
                f"with meta_steps={saved['meta_steps']} and "
                f"{saved['iters_per_epoch']} iterations per epoch, the "
                f"config gives meta_steps={current['meta_steps']} and "
                f"{current['iters_per_epoch']}")

    def run(self):
        """Train; a fresh run first sizes G's step to the budget."""
        if self.generator_lr is not None and self._iter == 0:
            self._set_generator_lr(self.generator_lr)
        return super().run()

    def _set_generator_lr(self, lr: float) -> None:
        """Set G's learning rate, also as its schedulers' base value."""
        optim_wrapper = self.runner.optim_wrapper
        if 'loss_generator' not in optim_wrapper:
            raise KeyError('train_cfg.generator_movement is set, but '
                           'optim_wrapper has no `loss_generator`')
        if not getattr(unwrap(self.runner.model), 'normalize_hypergrad',
                       False):
            raise ValueError('train_cfg.generator_movement bounds G\'s '
                             'movement only with model.normalize_hypergrad='
                             'True')
        optimizer = optim_wrapper['loss_generator'].optimizer
        for group in optimizer.param_groups:
            group['lr'] = group['initial_lr'] = lr
        schedulers = self.runner.param_schedulers
        if isinstance(schedulers, dict):
            for scheduler in schedulers.get('loss_generator', []):
                if scheduler.param_name == 'lr':
                    scheduler.base_values = [lr] * len(
                        optimizer.param_groups)
        print_log(f'G\'s learning rate set to {lr:.3g} = '
                  f'generator_movement {self.generator_movement} / '
                  f'({self._max_epochs} epochs x {self.meta_steps} meta '
                  'pairs)', logger='current')

    def run_epoch(self) -> None:
        """Learn G on the meta pairs, then F and T on one pass.

        Resumed from a checkpoint saved after the epoch's last iteration
        (before the epoch ended), only the end of the epoch remains: its
        ``after_train_epoch`` hooks.
        """
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = self.position
        if not 0 <= done <= self.iters_per_epoch:
            raise RuntimeError(
                f'Resumed at iteration {self._iter} of epoch {self._epoch}, '
                f'which does not fall inside that epoch with '
                f'{self.iters_per_epoch} iterations per epoch: did '
                'train_cfg.meta_steps or the dataset change since the '
                'checkpoint?')
        if done < self.iters_per_epoch:
            self._run_phases(done)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _run_phases(self, done: int) -> None:
        """The epoch's iterations, skipping the first ``done`` (their
        batches are drawn and dropped, so the data order is kept)."""
        self.phase = PHASE_META
        batches = self._cycle()
        for idx in range(self.meta_steps):
            self._reseed(idx)
            pair = self._meta_pair(batches)
            if idx >= done:
                self.run_iter(idx, pair)
        del batches
        self.phase = PHASE_FUSION_TASK
        batches = iter(self.dataloader)
        for idx in range(len(self.dataloader)):
            self._reseed(self.meta_steps + idx)
            data_batch = next(batches)
            if self.meta_steps + idx >= done:
                self.run_iter(self.meta_steps + idx, data_batch)

    def _meta_pair(self, batches: Iterator) -> dict:
        """The inner and outer batch of a meta pair (see the class)."""
        if self.meta_batch_size is None:
            return dict(inner=next(batches), outer=next(batches))
        k = self.meta_batch_size
        # A short batch (an epoch's last) is passed over.
        for _ in range(len(self.dataloader) + 1):
            batch = next(batches)
            if len(batch['data_samples']) >= 2 * k:
                return dict(inner=slice_batch(batch, 0, k),
                            outer=slice_batch(batch, k, 2 * k))
        raise RuntimeError(
            f'train_cfg.meta_batch_size={k}: no batch of the training '
            f'dataloader has {2 * k} samples (the dataset has '
            f'{len(self.dataloader.dataset)})')

    def _reseed(self, idx: int) -> None:
        """Seed every generator from the seed and the iteration number."""
        if self.reseed_every_iter:
            step = self._epoch * self.iters_per_epoch + idx
            set_random_seed((self.runner.seed + 1_000_003 * (step + 1)) % 2**31)

    def _cycle(self) -> Iterator:
        """Batches of the training dataloader, restarting when exhausted."""
        while True:
            empty = True
            for batch in self.dataloader:
                empty = False
                yield batch
            if empty:
                raise RuntimeError('The training dataloader is empty: no '
                                   'meta pair can be drawn')


def slice_batch(batch: dict, start: int, stop: int) -> dict:
    """Samples ``start:stop`` of a collated batch: ``inputs`` (a dict of
    per-sample lists, or one list) and ``data_samples``."""
    inputs = batch['inputs']
    if isinstance(inputs, dict):
        inputs = {k: v[start:stop] for k, v in inputs.items()}
    else:
        inputs = inputs[start:stop]
    return dict(batch, inputs=inputs,
                data_samples=batch['data_samples'][start:stop])
