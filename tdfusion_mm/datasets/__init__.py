"""Two-modality datasets and their transforms."""
from . import transforms  # noqa: F401
from .fmb import FMBDataset
from .llvip import LLVIPDataset
from .m3fd import M3FDDataset
from .msrs import MSRSDataset

__all__ = [
    'M3FDDataset', 'LLVIPDataset', 'MSRSDataset', 'FMBDataset'
]
