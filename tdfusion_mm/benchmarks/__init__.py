"""The measurements of ``tools/analysis_tools/benchmark.py``: inference
speed and training-step cost items (each timed in its own process by the
tool), folder fusion speed, row bands against the whole image, and where a
meta pair's time goes."""
from .bands_ab import bands_ab_benchmark
from .folder_fusion_speed import fuse_folder_benchmark
from .item_runner import build_step, run_item
from .machine import load
from .meta_profile import meta_profile_benchmark
from .training_items import TRAIN_SETUPS

__all__ = [
    'bands_ab_benchmark', 'fuse_folder_benchmark', 'build_step', 'run_item',
    'load', 'meta_profile_benchmark', 'TRAIN_SETUPS'
]
