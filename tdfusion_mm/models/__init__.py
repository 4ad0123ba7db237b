"""F, G, the fusion loss, the meta step, and the TDFusion algorithm.

The algorithm and the data preprocessor are imported on first use: they need
OpenCV (through mmengine's runner and ``tdfusion_mm.utils``), which F, G, the
loss and the meta step do not; these import with torch and mmengine's
pure-Python part alone.
"""
import importlib

from .fusion_backbones import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .loss_generators import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .meta import *  # noqa: F401,F403
from .fusion_backbones import __all__ as _fusion_backbones
from .layers import __all__ as _layers
from .loss_generators import __all__ as _loss_generators
from .losses import __all__ as _losses
from .meta import __all__ as _meta

# name -> submodule, imported when the name is first looked up
LAZY_SUBMODULES = {
    'TDFusion': 'algorithms',
    'build_task_model': 'algorithms',
    'FusionDataPreprocessor': 'data_preprocessors',
}

__all__ = (_fusion_backbones + _layers + _loss_generators + _losses + _meta +
           list(LAZY_SUBMODULES))


def __getattr__(name: str):
    if name in LAZY_SUBMODULES:
        module = importlib.import_module(f'.{LAZY_SUBMODULES[name]}',
                                         __name__)
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
