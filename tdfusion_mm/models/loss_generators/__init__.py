"""Loss generation modules (G) that weight the learnable fusion loss."""
from .loss_generation_module import LossGenerationModule

__all__ = ['LossGenerationModule']
