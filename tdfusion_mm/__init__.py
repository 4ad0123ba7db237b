"""tdfusion_mm: task-driven infrared-visible image fusion for OpenMMLab."""
from .version import __version__

__all__ = ['__version__']
