"""T's look-ahead step inside a meta pair, undone after it."""
import copy
from contextlib import contextmanager
from typing import Iterator, Optional

from mmengine.optim import OptimWrapper
from torch import nn


@contextmanager
def restored_task(task_model: nn.Module,
                  t_optim: Optional[OptimWrapper]) -> Iterator[None]:
    """Restore T's weights, buffers and optimizer state when the block
    ends; nothing to restore for a frozen T (``t_optim`` None).

    The optimizer wrapper's ``nonfinite_skips`` is not restored: a skipped
    look-ahead step stays counted.
    """
    if t_optim is None:
        yield
        return
    saved_task = {k: v.clone() for k, v in task_model.state_dict().items()}
    saved_optim = copy.deepcopy(t_optim.state_dict())
    saved_optim.pop('nonfinite_skips', None)
    yield
    task_model.load_state_dict(saved_task)
    t_optim.load_state_dict(saved_optim)
