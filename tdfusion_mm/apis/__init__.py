"""Using a trained model: the inferencer and its image I/O."""
from tdfusion_mm.utils.user_errors import UserError

from .folder_fusion import fuse_folder
from .fusion_inferencer import FusionInferencer, list_pairs, read_pair
from .image_io import (IMG_EXTS, AtomicOutputs, list_images, match_folders,
                       read_image, read_luma8, to_uint8_image, to_unit,
                       write_bytes, write_image)
from .memory import check_fusion_memory, estimate_fusion_memory
from .model_index import load_model_index, model_names, resolve_model

__all__ = [
    'FusionInferencer', 'list_pairs', 'read_pair', 'fuse_folder', 'UserError',
    'IMG_EXTS', 'AtomicOutputs', 'list_images', 'match_folders',
    'read_image', 'read_luma8', 'to_unit', 'to_uint8_image', 'write_bytes',
    'write_image', 'check_fusion_memory', 'estimate_fusion_memory',
    'load_model_index', 'model_names', 'resolve_model'
]
