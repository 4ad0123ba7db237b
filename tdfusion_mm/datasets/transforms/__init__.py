"""Transforms of infrared-visible pairs."""
from .formatting import PackFusionDetInputs, PackFusionSegInputs
from .fusion_crop import RandomFusionCrop
from .loading import (LoadDetAnnotations, LoadIrVisFromFile,
                      LoadSegAnnotations)
from .paired_transform import PairedTransform

__all__ = [
    'LoadIrVisFromFile', 'LoadSegAnnotations', 'LoadDetAnnotations',
    'PairedTransform', 'RandomFusionCrop',
    'PackFusionDetInputs', 'PackFusionSegInputs'
]
