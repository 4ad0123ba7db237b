"""What the tests, the demo and the benchmark share, outside the library
proper: the demo scene painter and dataset writer, and the eager reference
forward of ReFusion (the plain implementation the fast one is checked
against)."""
from .demo_dataset import DEMO_DATA, generate_demo_dataset
from .eager_reference import (reference_lpn, reference_refusion,
                              refusion_forward, transformer_block)
from .scene_painter import M3FD_CLASSES, MSRS_CLASSES, draw_scene

__all__ = [
    'generate_demo_dataset', 'draw_scene', 'DEMO_DATA', 'M3FD_CLASSES',
    'MSRS_CLASSES',
    'reference_refusion', 'reference_lpn', 'refusion_forward',
    'transformer_block'
]
