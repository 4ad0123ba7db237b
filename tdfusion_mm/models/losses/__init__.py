from .learnable_fusion_loss import LearnableFusionLoss, max_abs, sobel

__all__ = ['LearnableFusionLoss', 'sobel', 'max_abs']
