from . import atomic_local_backend  # noqa: F401  (registers the backend)
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
