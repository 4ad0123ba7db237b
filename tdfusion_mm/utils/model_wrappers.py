"""The model inside a wrapper (DDP, mmengine's model wrappers)."""
from mmengine.model import is_model_wrapper
from torch import nn


def unwrap(model: nn.Module) -> nn.Module:
    """``model.module`` for a model wrapper, else ``model`` itself."""
    return model.module if is_model_wrapper(model) else model
