"""An F without parameters that passes one source through, for baselines."""
from mmengine.model import BaseModule
from torch import Tensor

from tdfusion_mm.registry import MODELS

SOURCES = ('visible', 'infrared')


@MODELS.register_module()
class PassThroughFusion(BaseModule):
    """F for the single-modality baselines: returns one source's luma.

    With ``source='visible'`` T sees the visible image (its luma with its
    own colour restored, that is the visible image); with ``'infrared'``
    the infrared, grey. Having no parameters, it gets no optimizer: T
    trains alone.

    Args:
        source (str): ``'visible'`` or ``'infrared'``.
    """

    def __init__(self, source: str):
        super().__init__()
        if source not in SOURCES:
            raise ValueError(f'PassThroughFusion: source must be one of '
                             f'{SOURCES}, got {source!r}')
        self.source = source
        # The visible image's colour belongs to the visible luma only.
        self.keeps_visible_colour = source == 'visible'

    def forward(self, ir: Tensor, vis_y: Tensor) -> Tensor:
        """The source's luma (B, 1, H, W), as given."""
        return vis_y if self.source == 'visible' else ir
