"""Log lines that count meta pairs and batches as one epoch."""
from mmengine.runner import LogProcessor

from tdfusion_mm.registry import LOG_PROCESSORS


@LOG_PROCESSORS.register_module()
class MetaFusionLogProcessor(LogProcessor):
    """``Epoch(train) [e][i/n]`` with n = meta pairs + batches per epoch.

    mmengine's processor takes n from the dataloader's length, which
    :class:`MetaFusionTrainLoop` exceeds by its meta pairs.
    """

    def _get_dataloader_size(self, runner, mode) -> int:
        loop = self._get_cur_loop(runner=runner, mode=mode)
        return getattr(loop, 'iters_per_epoch', len(loop.dataloader))
