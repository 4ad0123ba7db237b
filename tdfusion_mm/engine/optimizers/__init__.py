from .bf16_optim_wrapper import BF16OptimWrapper
from .multi_optim_wrapper_constructor import MultiOptimWrapperConstructor

__all__ = ['BF16OptimWrapper', 'MultiOptimWrapperConstructor']
