from .meta_fusion_train_loop import (PHASE_FUSION_TASK, PHASE_META,
                                     MetaFusionTrainLoop)

__all__ = ['MetaFusionTrainLoop', 'PHASE_META', 'PHASE_FUSION_TASK']
