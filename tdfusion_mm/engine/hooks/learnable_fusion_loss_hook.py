"""Checks, logs and watches the learnable fusion loss during training."""
from typing import Optional

import torch
from mmengine.hooks import Hook

from tdfusion_mm.engine.runner import PHASE_META, MetaFusionTrainLoop
from tdfusion_mm.models.algorithms.optimizer_checks import check_optimizers
from tdfusion_mm.registry import HOOKS
from tdfusion_mm.utils.checkpoint import check_resume_fits
from tdfusion_mm.utils.model_wrappers import unwrap
from tdfusion_mm.utils.object_mask import object_mask

from .probe import read_probe


@HOOKS.register_module()
class LearnableFusionLossHook(Hook):
    """Watch G, the loss generation module, while TDFusion trains.

    - Before training: checks that the model has F, G and T and that the
      optimizer wrappers leave each phase something to train (see
      :func:`check_optimizers`), and keeps one training batch as a
      fixed probe.
    - After every iteration: logs the phase (1 = learning G, 0 = learning F
      and T) as ``phase``.
    - Every ``interval`` iterations and after each epoch: runs G on the
      probe and logs ``probe_w_ir_mean``, ``probe_w_ir_std``,
      ``probe_ir_share`` (fraction of pixels where the infrared weight
      exceeds the visible one) and, where the probe has objects,
      ``probe_w_ir_objects`` and ``probe_w_ir_background`` (mean w_ir on
      the pixels of the annotated objects, see :func:`object_mask`, and on
      the rest), so that what G learns, and where, is visible in the logs
      and comparable across iterations.
    - With every checkpoint, and on resume (not on a plain ``load_from``):
      lets the loop record and check where a resumed run starts
      (:meth:`MetaFusionTrainLoop.checkpoint_meta`,
      :meth:`MetaFusionTrainLoop.check_checkpoint_meta`); on resume, before
      anything is loaded, also refuses a checkpoint whose model or
      optimizer layout does not fit (:func:`check_resume_fits`).

    Args:
        interval (int): Probe interval in iterations. Defaults to 50.
    """

    priority = 'NORMAL'

    def __init__(self, interval: int = 50):
        if interval < 1:
            raise ValueError(f'LearnableFusionLossHook: interval must be >= '
                             f'1, got {interval}')
        self.interval = interval
        self._probe: Optional[dict] = None
        self._probe_objects: Optional[torch.Tensor] = None

    def before_train(self, runner) -> None:
        model = unwrap(runner.model)
        for name in ('fusion_backbone', 'loss_generator', 'task_model'):
            if not hasattr(model, name):
                raise TypeError(
                    f'LearnableFusionLossHook needs a TDFusion model with '
                    f'`{name}`; got {type(model).__name__}')
        loop = runner.train_loop
        meta = getattr(loop, 'meta_steps', 0) > 0
        check_optimizers(runner.optim_wrapper, model.fusion_backbone,
                         model.loss_generator, meta_phase=meta)
        loader = runner.train_dataloader
        data = read_probe(model, loader, loader.batch_size or 1)
        self._probe = data['inputs']
        self._probe_objects = object_mask(data['data_samples'],
                                          self._probe['ir'].shape[-2:])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        phase = getattr(runner.train_loop, 'phase', None)
        runner.message_hub.update_scalar('train/phase',
                                         float(phase == PHASE_META))
        if self.every_n_train_iters(runner, self.interval):
            self._log_probe(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        loop = runner._train_loop
        if isinstance(loop, MetaFusionTrainLoop):
            loop.checkpoint_meta(checkpoint.get('meta', {}))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Only a resumed run continues the saved epoch layout; ``load_from``
        # without resume starts a new schedule from the weights.
        # Called before mmengine loads anything of the checkpoint.
        loop = runner._train_loop
        if not (getattr(runner, '_resume', False) and isinstance(
                loop, MetaFusionTrainLoop)):
            return
        source = getattr(runner, '_load_from', None) or 'the checkpoint'
        target = getattr(getattr(runner, 'cfg', None), 'filename',
                         None) or 'the config'
        loop.check_checkpoint_meta(checkpoint.get('meta', {}), source, target)
        check_resume_fits(checkpoint, unwrap(runner.model),
                          runner.optim_wrapper, source, target)

    def after_train_epoch(self, runner) -> None:
        self._log_probe(runner)

    @torch.no_grad()
    def _log_probe(self, runner) -> None:
        if self._probe is None:
            return
        model = unwrap(runner.model)
        weights = model.loss_weights(self._probe['ir'], self._probe['vis'])
        w_ir, w_vis = weights[:, 0], weights[:, 1]
        stats = dict(probe_w_ir_mean=w_ir.mean().item(),
                     probe_w_ir_std=w_ir.std().item(),
                     probe_ir_share=(w_ir > w_vis).float().mean().item())
        objects = self._probe_objects[:, 0].to(w_ir.device)
        if objects.any() and not objects.all():
            stats.update(probe_w_ir_objects=w_ir[objects].mean().item(),
                         probe_w_ir_background=w_ir[~objects].mean().item())
        for key, value in stats.items():
            runner.message_hub.update_scalar(f'train/{key}', value)
