"""One optimizer wrapper per named sub-module of the model."""
import copy

from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from tdfusion_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS
from tdfusion_mm.utils.model_wrappers import unwrap


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiOptimWrapperConstructor:
    """Build an :obj:`OptimWrapperDict` keyed by sub-module names.

    Each key of ``optim_wrapper_cfg`` names a top-level sub-module of the model
    (for TDFusion: ``fusion_backbone``, ``loss_generator``, ``task_model``) and
    holds a complete optimizer wrapper config for it, optionally with its own
    ``paramwise_cfg`` and ``constructor``, or None: no optimizer (for
    TDFusion a frozen part, e.g. ``task_model=None``). A sub-module without
    trainable parameters (e.g. a fixed loss in place of G) gets none either.

    Example:
        >>> optim_wrapper = dict(
        >>>     constructor='tdfusion_mm.MultiOptimWrapperConstructor',
        >>>     fusion_backbone=dict(optimizer=dict(type='Adam', lr=1e-4)),
        >>>     loss_generator=dict(optimizer=dict(type='SGD', lr=1e-4)),
        >>>     task_model=dict(optimizer=dict(type='Adam', lr=1e-4)))

    Args:
        optim_wrapper_cfg (dict): Sub-module name -> optimizer wrapper config
            or None.
        paramwise_cfg (dict, optional): Must be None: give a
            ``paramwise_cfg`` inside each sub-module's config instead.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg=None):
        if paramwise_cfg is not None:
            raise ValueError(
                'MultiOptimWrapperConstructor: put `paramwise_cfg` inside the '
                'config of each sub-module, e.g. '
                'optim_wrapper.task_model.paramwise_cfg')
        if not optim_wrapper_cfg:
            raise ValueError('MultiOptimWrapperConstructor: optim_wrapper '
                             'names no sub-module')
        for name, cfg in optim_wrapper_cfg.items():
            if cfg is not None and not isinstance(cfg, dict):
                raise TypeError(
                    f'optim_wrapper.{name} must be a dict or None, got '
                    f'{type(cfg)}')
        self.optim_wrapper_cfg = copy.deepcopy(optim_wrapper_cfg)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = unwrap(model)
        wrappers = {}
        for name, cfg in self.optim_wrapper_cfg.items():
            module = getattr(model, name, None)
            if not isinstance(module, nn.Module):
                raise KeyError(
                    f'optim_wrapper.{name}: {type(model).__name__} has no '
                    f'sub-module named "{name}"')
            if cfg is None:
                continue
            if not any(p.requires_grad for p in module.parameters()):
                # e.g. FixedLossWeights: torch refuses an empty optimizer.
                print_log(f'MultiOptimWrapperConstructor: {name} has no '
                          'trainable parameters; no optimizer built for it',
                          logger='current')
                continue
            cfg = copy.deepcopy(cfg)
            constructor = cfg.pop('constructor', None)
            paramwise_cfg = cfg.pop('paramwise_cfg', None)
            if constructor is None:
                builder = DefaultOptimWrapperConstructor(cfg, paramwise_cfg)
            else:
                builder = OPTIM_WRAPPER_CONSTRUCTORS.build(
                    dict(type=constructor, optim_wrapper_cfg=cfg,
                         paramwise_cfg=paramwise_cfg))
            wrappers[name] = builder(module)
        return OptimWrapperDict(**wrappers)
