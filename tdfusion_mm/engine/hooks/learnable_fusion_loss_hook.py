"""Checks, logs and watches the learnable fusion loss during training."""
from typing import Optional

import torch
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from tdfusion_mm.engine.runner import (PHASE_FUSION_TASK, PHASE_META,
                                      MetaFusionTrainLoop)
from tdfusion_mm.registry import HOOKS
from tdfusion_mm.utils.object_mask import object_mask


@HOOKS.register_module()
class LearnableFusionLossHook(Hook):
    """Watch G, the loss generation module, while TDFusion trains.

    - Before training: checks that the model has F, G and T and that the
      optimizer wrapper has one optimizer for each part that is trained
      (see ``TDFusion.required_optimizers``), and keeps one training batch
      as a fixed probe.
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
    - With every checkpoint: records the position inside the epoch where a
      resumed run starts, the phase it starts in, ``meta_steps`` and iterations per epoch under
      ``meta['tdfusion_loop']``; on resume, refuses a checkpoint whose epoch
      layout differs from the current config (the position would be wrong).

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

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        for name in ('fusion_backbone', 'loss_generator', 'task_model'):
            if not hasattr(model, name):
                raise TypeError(
                    f'LearnableFusionLossHook needs a TDFusion model with '
                    f'`{name}`; got {type(model).__name__}')
        loop = runner.train_loop
        meta = getattr(loop, 'meta_steps', 0) > 0
        required = model.required_optimizers(meta_phase=meta)
        missing = [k for k in required if k not in runner.optim_wrapper]
        if missing:
            raise KeyError(f'optim_wrapper has no {missing}; this TDFusion '
                           f'set-up trains with one per key of {required}')
        # The first samples of the dataset, read directly: an unfinished
        # dataloader iterator could disturb a stateful batch sampler.
        loader = runner.train_dataloader
        count = min(loader.batch_size or 1, len(loader.dataset))
        batch = pseudo_collate([loader.dataset[i] for i in range(count)])
        data = model.data_preprocessor(batch, False)
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
        loop, meta = runner._train_loop, checkpoint.get('meta', {})
        if isinstance(loop, MetaFusionTrainLoop) and 'iter' in meta:
            # Iterations of meta['epoch'] done when resuming from here.
            position = meta['iter'] - meta['epoch'] * loop.iters_per_epoch
            meta['tdfusion_loop'] = dict(
                position=position,
                next_phase=(PHASE_META if position < loop.meta_steps else
                            PHASE_FUSION_TASK),
                meta_steps=loop.meta_steps,
                iters_per_epoch=loop.iters_per_epoch)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get('meta', {}).get('tdfusion_loop')
        loop = runner._train_loop
        if saved is None or not isinstance(loop, MetaFusionTrainLoop):
            return
        current = dict(meta_steps=loop.meta_steps,
                       iters_per_epoch=loop.iters_per_epoch)
        if any(saved[k] != v for k, v in current.items()):
            raise ValueError(
                f'Cannot resume: the checkpoint was saved with meta_steps='
                f"{saved['meta_steps']} and {saved['iters_per_epoch']} "
                f'iterations per epoch, the config gives meta_steps='
                f"{current['meta_steps']} and {current['iters_per_epoch']}")

    def after_train_epoch(self, runner) -> None:
        self._log_probe(runner)

    @torch.no_grad()
    def _log_probe(self, runner) -> None:
        if self._probe is None:
            return
        model = self._model(runner)
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
