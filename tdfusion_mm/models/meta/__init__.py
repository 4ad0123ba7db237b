from .meta_step import (HESSIAN_VECTOR_MODES, MetaStepResult,
                        fusion_loss_terms, meta_hypergradient, virtual_step)
from .ranks import average_hypergrads, finite_on_every_rank, rank_mean

__all__ = [
    'HESSIAN_VECTOR_MODES', 'MetaStepResult', 'average_hypergrads',
    'finite_on_every_rank', 'fusion_loss_terms', 'meta_hypergradient',
    'rank_mean', 'virtual_step'
]
