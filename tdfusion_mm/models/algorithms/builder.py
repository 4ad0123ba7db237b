"""Builders of TDFusion's parts."""
import copy
from typing import Union

from mmengine.config import ConfigDict
from mmengine.hub import get_config
from torch import nn

from tdfusion_mm.registry import MODELS


def build_task_model(cfg: Union[dict, ConfigDict]) -> nn.Module:
    """Build the task network in its own library's scope.

    ``cfg`` is either a model config carrying ``_scope_`` (configs inheriting
    from ``mmdet::``/``mmseg::`` bases carry it) or a type prefixed with the
    scope, or ``dict(cfg_path='mmdet::...py', cfg_options=dict(...))``: the
    ``model`` of that config file, updated with ``cfg_options``.
    """
    cfg = copy.deepcopy(dict(cfg))
    if 'cfg_path' in cfg:
        unknown = set(cfg) - {'cfg_path', 'cfg_options'}
        if unknown:
            raise KeyError(f'model.task_model: unknown keys {sorted(unknown)}'
                           ' beside `cfg_path` (use `cfg_options`)')
        file_cfg = get_config(cfg['cfg_path'])
        if cfg.get('cfg_options'):
            file_cfg.merge_from_dict(dict(model=cfg['cfg_options']))
        scope = file_cfg.get('default_scope')
        cfg = copy.deepcopy(file_cfg.model)
        if scope and '_scope_' not in cfg:
            cfg['_scope_'] = scope
    if '_scope_' not in cfg and '.' not in cfg.get('type', ''):
        raise KeyError(
            'model.task_model: cannot tell which library builds '
            f"type={cfg.get('type')!r}: add `_scope_='mmdet'` or "
            "`_scope_='mmseg'`, prefix the type (e.g. 'mmdet.YOLOX'), or use "
            '`cfg_path`')
    return MODELS.build(cfg)


def build_own(cfg: dict) -> nn.Module:
    """Build one of our parts whatever the current default scope."""
    cfg = copy.deepcopy(dict(cfg))
    cfg.setdefault('_scope_', 'tdfusion_mm')
    return MODELS.build(cfg)
