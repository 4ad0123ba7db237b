"""Two-modality datasets, transforms and the demo scene generator."""
from . import transforms  # noqa: F401
from .demo_scenes import generate_demo_dataset
from .fmb import FMBDataset
from .llvip import LLVIPDataset
from .m3fd import M3FDDataset
from .msrs import MSRSDataset

__all__ = [
    'generate_demo_dataset', 'M3FDDataset', 'LLVIPDataset', 'MSRSDataset',
    'FMBDataset'
]
