"""unwrap: the model inside mmengine's and torch's wrappers."""
from mmengine.model import MMDistributedDataParallel
from torch import nn

from tdfusion_mm.utils.model_wrappers import unwrap


def test_unwrap_returns_the_inner_module():
    inner = nn.Linear(2, 2)
    assert unwrap(inner) is inner
    # a wrapper without initialising DDP (no process group is needed)
    wrapper = MMDistributedDataParallel.__new__(MMDistributedDataParallel)
    nn.Module.__init__(wrapper)
    wrapper.module = inner
    assert unwrap(wrapper) is inner
