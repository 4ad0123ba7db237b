"""The epoch loop of TDFusion: learn G on meta pairs, then learn F and T."""
from typing import Dict, Iterator, List, Optional, Tuple, Union

from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from tdfusion_mm.registry import LOOPS

PHASE_META = 'meta'
PHASE_FUSION_TASK = 'fusion_task'


@LOOPS.register_module()
class MetaFusionTrainLoop(EpochBasedTrainLoop):
    """Each epoch: ``meta_steps`` meta pairs, then one pass over the data.

    A meta pair is two consecutive batches of the training dataloader (the
    inner and the outer batch), given to the model as
    ``dict(inner=..., outer=...)``; it updates G only. The pass that follows
    updates F and T on every batch. Both count as iterations, so
    ``max_iters = max_epochs * (meta_steps + len(dataloader))`` and hooks see
    every one of them; :attr:`phase` tells which phase is running.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader or dict): The training dataloader.
        max_epochs (int): Number of epochs.
        meta_steps (int): Meta pairs per epoch (200 in the paper). 0 trains F
            and T with G fixed. Defaults to 200.
        val_begin (int): First epoch to validate. Defaults to 1.
        val_interval (int): Validation interval in epochs. Defaults to 1.
        dynamic_intervals (list, optional): See ``EpochBasedTrainLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 meta_steps: int = 200,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None):
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        if int(meta_steps) != meta_steps or meta_steps < 0:
            raise ValueError('train_cfg.meta_steps must be a non-negative '
                             f'integer, got {meta_steps}')
        self.meta_steps = int(meta_steps)
        self._max_iters = self._max_epochs * self.iters_per_epoch
        self.phase = PHASE_FUSION_TASK

    @property
    def iters_per_epoch(self) -> int:
        """Meta pairs plus batches of one pass."""
        return self.meta_steps + len(self.dataloader)

    def run_epoch(self) -> None:
        """Learn G on the meta pairs, then F and T on one pass."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        self.phase = PHASE_META
        batches = self._cycle()
        for idx in range(self.meta_steps):
            pair = dict(inner=next(batches), outer=next(batches))
            self.run_iter(idx, pair)
        del batches
        self.phase = PHASE_FUSION_TASK
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(self.meta_steps + idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

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
