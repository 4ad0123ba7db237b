from .colour import (from_ycrcb, luma, luma_array, restore_colour,
                     restore_colour_array, to_ycrcb)
from .malloc import tune_malloc
from .object_mask import ObjectBackgroundMean, object_mask
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'to_ycrcb', 'from_ycrcb', 'luma', 'restore_colour',
    'luma_array', 'restore_colour_array', 'tune_malloc', 'object_mask',
    'ObjectBackgroundMean'
]
