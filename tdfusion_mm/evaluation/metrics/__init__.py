from .fusion_metric import FusionMetric, source_luma8

__all__ = ['FusionMetric', 'source_luma8']
