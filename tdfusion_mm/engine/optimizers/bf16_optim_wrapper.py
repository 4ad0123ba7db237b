"""Mixed precision on the CPU: bfloat16 autocast without loss scaling."""
from contextlib import contextmanager

import torch
from torch import nn

from tdfusion_mm.registry import OPTIM_WRAPPERS
from .nonfinite_skip_optim_wrapper import NonFiniteSkipOptimWrapper


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(NonFiniteSkipOptimWrapper):
    """An optimizer wrapper whose context autocasts to bfloat16.

    mmengine's ``AmpOptimWrapper`` refuses a machine without a GPU; on the
    CPU, autocast supports bfloat16, which has float32's range, so no loss
    scaling is needed and the step is the plain wrapper's (non-finite
    updates are skipped, see :class:`NonFiniteSkipOptimWrapper`).
    """

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Autocast to bfloat16 on the device of ``model``'s parameters."""
        device = next((p.device.type for p in model.parameters()), 'cpu')
        with super().optim_context(model), torch.autocast(
                device, dtype=torch.bfloat16):
            yield
