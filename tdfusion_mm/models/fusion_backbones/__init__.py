"""Fusion networks (F) and their official-checkpoint conversion."""
from .official_checkpoint import (build_target_network,
                                  convert_official_state_dict)
from .gradient_dense_fusion import GradientDenseFusion
from .pass_through_fusion import PassThroughFusion
from .refusion import ReFusion

__all__ = [
    'ReFusion', 'GradientDenseFusion', 'PassThroughFusion',
    'convert_official_state_dict', 'build_target_network'
]
