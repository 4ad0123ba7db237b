"""Building blocks shared by the TDFusion networks."""
from .restormer import (GDFN, MDTA, BiasFreeLayerNorm, CrossModalFusion,
                        LayerNorm, TransformerBlock, WithBiasLayerNorm)

__all__ = [
    'WithBiasLayerNorm', 'BiasFreeLayerNorm', 'LayerNorm', 'MDTA', 'GDFN',
    'TransformerBlock', 'CrossModalFusion'
]
