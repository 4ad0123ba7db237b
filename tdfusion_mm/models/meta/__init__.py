from .meta_step import (HESSIAN_VECTOR_MODES, MetaStepResult,
                        fusion_loss_terms, meta_hypergradient, rank_mean,
                        virtual_step)

__all__ = [
    'HESSIAN_VECTOR_MODES', 'MetaStepResult', 'fusion_loss_terms',
    'meta_hypergradient', 'rank_mean', 'virtual_step'
]
