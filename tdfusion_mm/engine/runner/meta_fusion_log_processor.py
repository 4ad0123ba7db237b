"""Log lines that count meta pairs and batches as one epoch, name the phase
in words and keep small values readable."""
import re

from mmengine.runner import LogProcessor

from tdfusion_mm.registry import LOG_PROCESSORS
from .meta_fusion_train_loop import PHASE_FUSION_TASK, PHASE_META



@LOG_PROCESSORS.register_module()
class MetaFusionLogProcessor(LogProcessor):
    """mmengine's log processor, adapted to :class:`MetaFusionTrainLoop`.

    - ``Epoch(train) [e][i/n]`` with n = meta pairs + batches per epoch
      (mmengine takes n from the dataloader's length, which the loop exceeds
      by its meta pairs);
    - training lines name the phase in words (``phase: learning G, meta
      pair 3/4`` or ``phase: learning F and T``) instead of its 1/0 scalar;
    - a non-zero value that fixed-point notation would show with fewer than
      two significant digits (e.g. G's hypergradient, ~1e-9, which
      mmengine prints as ``0.0000``) is printed with ``num_digits``
      significant digits in scientific notation (``3.142e-09``). The
      scalars saved for the visualizer are unchanged.
    """

    def _get_dataloader_size(self, runner, mode) -> int:
        loop = self._get_cur_loop(runner=runner, mode=mode)
        return getattr(loop, 'iters_per_epoch', len(loop.dataloader))

    def get_log_after_iter(self, runner, batch_idx: int, mode: str):
        tag, log_str = super().get_log_after_iter(runner, batch_idx, mode)
        if mode != 'train':
            return tag, log_str
        for name, value in tag.items():
            name = self._remove_prefix(name, f'{mode}/')
            if isinstance(value, float):
                log_str = self._reformat(log_str, name, value)
        words = self._phase_words(runner.train_loop)
        if words:
            log_str = re.sub(r'(?<=  )phase: \S+', f'phase: {words}', log_str)
        return tag, log_str

    @staticmethod
    def _phase_words(loop) -> str:
        """The running phase in words ('' for another loop)."""
        phase = getattr(loop, 'phase', None)
        if phase == PHASE_META:
            return (f'learning G, meta pair {loop.position + 1}/'
                    f'{loop.meta_steps}')
        if phase == PHASE_FUSION_TASK:
            return 'learning F and T'
        return ''

    def _reformat(self, log_str: str, name: str, value: float) -> str:
        """Rewrite ``name: value`` in scientific notation if the fixed-point
        text would keep fewer than two significant digits."""
        if value == 0 or abs(value) >= 10.0**(2 - self.num_digits):
            return log_str
        fixed = f'{value:.{self.num_digits}f}'
        readable = f'{value:.{self.num_digits - 1}e}'
        return re.sub(rf'(?<=  ){re.escape(name)}: {re.escape(fixed)}(?=  |$)',
                      f'{name}: {readable}', log_str)
