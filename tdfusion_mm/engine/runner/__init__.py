from .meta_fusion_log_processor import MetaFusionLogProcessor
from .meta_fusion_train_loop import (PHASE_FUSION_TASK, PHASE_META,
                                     MetaFusionTrainLoop)

__all__ = [
    'MetaFusionTrainLoop', 'MetaFusionLogProcessor', 'PHASE_META',
    'PHASE_FUSION_TASK'
]
