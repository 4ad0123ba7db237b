from .tdfusion import TDFusion, build_task_model

__all__ = ['TDFusion', 'build_task_model']
