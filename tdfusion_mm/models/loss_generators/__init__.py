"""Loss generation modules (G) that weight the learnable fusion loss."""
from .fixed_loss_weights import FixedLossWeights
from .loss_generation_module import LossGenerationModule

__all__ = ['FixedLossWeights', 'LossGenerationModule']
