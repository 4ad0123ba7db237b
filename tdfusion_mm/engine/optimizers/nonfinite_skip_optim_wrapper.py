"""Optimizer wrappers that skip an update whose loss or gradient is not
finite."""
from contextlib import contextmanager
from typing import Dict, Optional

import torch
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from torch import Tensor, nn

from tdfusion_mm.models.meta import finite_on_every_rank
from tdfusion_mm.registry import OPTIM_WRAPPERS
from tdfusion_mm.utils.model_wrappers import unwrap


@OPTIM_WRAPPERS.register_module()
class NonFiniteSkipOptimWrapper(OptimWrapper):
    """An optimizer wrapper that skips non-finite updates and counts them.

    :meth:`update_params` makes no update if the loss (on any rank) or a
    gradient (averaged over the ranks by DDP) is not finite: the weights
    and the optimizer state stay as they were, and the buffers of the
    module given to the last :meth:`optim_context` (e.g. BatchNorm
    statistics that the forward pass updated) are put back. Skips are
    counted in ``nonfinite_skips``, saved in :meth:`state_dict`.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.nonfinite_skips = 0
        self._module: Optional[nn.Module] = None
        self._buffers: Dict[str, Tensor] = {}

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Keep ``model``'s buffers, to put back if the update is skipped."""
        self._module = unwrap(model)
        self._buffers = {
            k: v.clone()
            for k, v in self._module.named_buffers()
        }
        with super().optim_context(model):
            yield

    def update_params(self,
                      loss: Tensor,
                      step_kwargs: Optional[dict] = None,
                      zero_kwargs: Optional[dict] = None) -> bool:
        """Backward and step, unless the loss or a gradient is not finite.

        Returns:
            bool: Whether the update was made.
        """
        if not self.finite_or_skip(loss, what='loss'):
            return False
        self.backward(loss)
        if not self.gradients_finite():
            self.skip('gradient')
            return False
        self.step(**(step_kwargs or {}))
        self.zero_grad(**(zero_kwargs or {}))
        return True

    def gradients_finite(self) -> bool:
        """Whether every gradient is finite (AMP's loss scaler handles its
        own)."""
        return isinstance(self, AmpOptimWrapper) or all(
            torch.isfinite(p.grad).all() for group in self.param_groups
            for p in group['params'] if p.grad is not None)

    def finite_or_skip(self, *values: Tensor, what: str) -> bool:
        """Whether ``values`` are finite on every rank; skips the update
        (see :meth:`skip`) if not."""
        if finite_on_every_rank(*values):
            return True
        self.skip(what)
        return False

    def skip(self, what: str) -> None:
        """Drop the gradients, put the buffers back, count and log."""
        self.zero_grad()
        if self._module is not None:
            self._module.load_state_dict(self._buffers, strict=False)
        self.nonfinite_skips += 1
        name = type(self._module).__name__ if self._module else 'the model'
        print_log(f'{type(self).__name__}: non-finite {what}, update of '
                  f'{name} skipped ({self.nonfinite_skips} so far)',
                  logger='current', level=30)

    def state_dict(self) -> dict:
        """The optimizer's state and ``nonfinite_skips``."""
        state = super().state_dict()
        state['nonfinite_skips'] = self.nonfinite_skips
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the optimizer's state; ``nonfinite_skips`` too if saved."""
        state_dict = dict(state_dict)
        if 'nonfinite_skips' in state_dict:
            self.nonfinite_skips = state_dict.pop('nonfinite_skips')
        super().load_state_dict(state_dict)


@OPTIM_WRAPPERS.register_module()
class NonFiniteSkipAmpOptimWrapper(NonFiniteSkipOptimWrapper,
                                   AmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` (float16 autocast, loss scaling on a
    GPU) that skips an update whose loss is not finite; its loss scaler
    handles non-finite gradients."""

