from .meta_step import (MetaStepResult, fusion_loss_terms, meta_hypergradient,
                        virtual_step)

__all__ = [
    'MetaStepResult', 'fusion_loss_terms', 'meta_hypergradient', 'virtual_step'
]
