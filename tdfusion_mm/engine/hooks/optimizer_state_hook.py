"""Carry a finished run's optimizer state into a new run."""
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.optim import OptimWrapperDict

from tdfusion_mm.registry import HOOKS


@HOOKS.register_module()
class LoadOptimizerStateHook(Hook):
    """Load the optimizer state of ``checkpoint`` before training starts.

    mmengine's ``load_from`` restores weights only, so a run that continues
    from another one restarts Adam's moments; ``resume`` restores them but
    also the seed, the epoch and the schedules. This hook restores the
    optimizer state alone, for each optimizer that both runs have (F's and
    T's, say); an optimizer the checkpoint lacks (a new G) starts fresh.

    Args:
        checkpoint (str): A checkpoint saved by a runner.
        parts (Sequence[str], optional): The optimizers to restore (keys of
            ``optim_wrapper``). Defaults to every one the run and the
            checkpoint share.
    """

    priority = 'VERY_HIGH'

    def __init__(self, checkpoint: str,
                 parts: Optional[Sequence[str]] = None) -> None:
        self.checkpoint = checkpoint
        self.parts = None if parts is None else list(parts)

    def before_train(self, runner) -> None:
        from tdfusion_mm.utils.checkpoint import load_checkpoint_file
        saved = load_checkpoint_file(self.checkpoint).get('optimizer')
        if saved is None:
            raise KeyError(f'{self.checkpoint} holds no optimizer state')
        wrappers = runner.optim_wrapper
        if not isinstance(wrappers, OptimWrapperDict):
            wrappers = OptimWrapperDict(optimizer=wrappers)
            saved = dict(optimizer=saved)
        parts = self.parts
        if parts is None:
            parts = [k for k in wrappers.optim_wrappers if k in saved]
        for part in parts:
            if part not in wrappers.optim_wrappers or part not in saved:
                raise KeyError(
                    f'optimizer {part!r}: the run has '
                    f'{sorted(wrappers.optim_wrappers)}, {self.checkpoint} '
                    f'has {sorted(saved)}')
            wrappers.optim_wrappers[part].load_state_dict(saved[part])
        print_log(f'optimizer state of {parts} from {self.checkpoint}',
                  logger='current')
