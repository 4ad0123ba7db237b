from .fusion_visualization_hook import FusionVisualizationHook
from .learnable_fusion_loss_hook import LearnableFusionLossHook
from .optimizer_state_hook import LoadOptimizerStateHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = [
    'LearnableFusionLossHook', 'SafeCheckpointHook', 'FusionVisualizationHook',
    'LoadOptimizerStateHook'
]
