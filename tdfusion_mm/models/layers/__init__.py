"""Building blocks shared by the TDFusion networks."""
from .cross_modal_fusion import CrossModalFusion
from .luma_pair import check_luma_pair
from .restormer import (GDFN, MDTA, LayerNorm, TransformerBlock,
                        WithBiasLayerNorm, transformer_blocks)

__all__ = [
    'WithBiasLayerNorm', 'LayerNorm', 'MDTA', 'GDFN',
    'TransformerBlock', 'transformer_blocks', 'CrossModalFusion',
    'check_luma_pair'
]
