"""The learned-vs-fixed fusion-loss study of
``tools/analysis_tools/fusion_loss_study.py``: budgets, data splits, run
configs, the run scheduler, the downstream design, G's measurement and
the report."""
from .budgets import BUDGET_OPTIONS, TASK_BUDGETS, task_budgets
from .design import TASKS, VARIANTS, WARM_RUN, run_dir, warm_checkpoint
from .downstream import run_downstream
from .report import write_report
from .run_config import VARIANT_MODEL, run_config
from .scheduler import final_metrics, run_all

__all__ = [
    'BUDGET_OPTIONS', 'TASK_BUDGETS', 'task_budgets', 'TASKS', 'VARIANTS',
    'WARM_RUN', 'run_dir', 'warm_checkpoint', 'write_report',
    'VARIANT_MODEL', 'run_config', 'final_metrics', 'run_all',
    'run_downstream'
]
