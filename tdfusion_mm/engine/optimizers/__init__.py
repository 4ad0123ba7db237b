from .bf16_optim_wrapper import BF16OptimWrapper
from .multi_optim_wrapper_constructor import MultiOptimWrapperConstructor
from .nonfinite_skip_optim_wrapper import (NonFiniteSkipAmpOptimWrapper,
                                           NonFiniteSkipOptimWrapper)

__all__ = [
    'BF16OptimWrapper', 'MultiOptimWrapperConstructor',
    'NonFiniteSkipAmpOptimWrapper', 'NonFiniteSkipOptimWrapper'
]
