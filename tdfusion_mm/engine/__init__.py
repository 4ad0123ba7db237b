from . import atomic_local_backend  # noqa: F401  (registers the backend)
# Registers the loader of local checkpoints that names bad files.
from ..utils import checkpoint  # noqa: F401,I001
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
