from .builder import build_own, build_task_model
from .tdfusion import TDFusion

__all__ = ['TDFusion', 'build_own', 'build_task_model']
