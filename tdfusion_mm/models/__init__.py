from .algorithms import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .fusion_backbones import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .loss_generators import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .meta import *  # noqa: F401,F403
