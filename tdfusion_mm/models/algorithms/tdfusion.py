"""TDFusion: a fusion network trained through a learnable loss for a task."""
import copy
from typing import Dict, List, Optional

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.structures import PixelData
from torch import Tensor

from tdfusion_mm.models.meta import meta_hypergradient
from tdfusion_mm.registry import MODELS
from tdfusion_mm.utils.checkpoint import load_task_state_dict
from tdfusion_mm.utils.colour import luma
from tdfusion_mm.utils.model_wrappers import unwrap
from . import task_input
from .arguments import check_arguments, check_swap, refuse_removed_arguments
from .builder import build_own, build_task_model
from .fusion_batch import FusionBatch, fusion_batch
from .generator_step import step_on_hypergradient
from .luma_fusion import fuse_batch
from .optimizer_checks import (check_hypergradient_wrapper, check_optimizers,
                               nonfinite_skips)
from .task_lookahead import restored_task


@MODELS.register_module()
class TDFusion(BaseModel):
    """Task-driven fusion: F fuses, G weighs F's loss, T solves the task.

    F is ``fusion_backbone``, G ``loss_generator``, T ``task_model``. Images
    are in [0, 1]: ``ir`` the infrared (one channel), ``vis_bgr`` the visible
    image as loaded (BGR or grey) and ``vis_y`` its luma. F, G and the fusion
    loss take ``(ir, vis_y)``; :meth:`fuse` and :meth:`loss_weights`
    ``(ir, vis_bgr)``. Training alternates two phases (see
    :class:`MetaFusionTrainLoop`):

    - learning G (a meta pair): T takes a real look-ahead step on the inner
      batch, F a virtual step on its G-weighted fusion loss; T's loss on the
      stepped F's outer fusion is differentiated into G, G is updated, and T
      (weights, buffers, optimizer state) restored;
    - learning F and T (a batch): F steps on the fusion loss with G's weights
      detached, T on the detached fused images; T's loss reaches F only
      through G.

    A part trains if it has an optimizer wrapper; a T without one
    (``optim_wrapper.task_model=None``) is frozen: eval mode, no look-ahead
    step, never updated. A :class:`PassThroughFusion` F (no parameters) makes
    a single-modality baseline.

    Args:
        fusion_backbone (dict): Config of F (e.g. ``ReFusion``).
        loss_generator (dict): Config of G (``LossGenerationModule``).
        fusion_loss (dict): Config of the fusion loss.
        task_model (dict): Config of T, any mmdet detector or mmseg segmentor
            (see :func:`build_task_model`).
        data_preprocessor (dict, optional): Pads and stacks both modalities.
            Defaults to ``FusionDataPreprocessor``.
        inner_lr (float): Learning rate of F's virtual step. Defaults to 1e-4.
        swap_modalities (bool): Double every training batch with infrared and
            visible exchanged, as in the paper (not with an F without
            parameters). Defaults to True.
        task_in_channels (int): 3 gives T the fused luma with the visible
            image's colour restored (BGR, in [0, 255], then T's own data
            preprocessor normalises it); 1 gives it the fused luma only.
            Defaults to 3.
        normalize_hypergrad (bool): Divide G's hypergradient by its largest
            magnitude before G's optimizer step (the reference update is SGD
            on this normalised gradient). Defaults to True.
        hessian_vector (str): ``'exact'`` (F differentiated in forward
            mode) or ``'finite_difference'`` (two first-order passes, for an
            F whose layers lack forward-mode derivatives); see
            :func:`meta_hypergradient`. Defaults to ``'exact'``.
        task_checkpoint (str, optional): A checkpoint of T's architecture
            saved by mmdet's/mmseg's own tools (its ``state_dict``; a
            TDFusion checkpoint's ``task_model.*`` keys work too), loaded
            strictly by :meth:`init_weights` in place of T's own
            initialisation. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 fusion_backbone: dict,
                 loss_generator: dict,
                 fusion_loss: dict,
                 task_model: dict,
                 data_preprocessor: Optional[dict] = None,
                 inner_lr: float = 1e-4,
                 swap_modalities: bool = True,
                 task_in_channels: int = 3,
                 normalize_hypergrad: bool = True,
                 hessian_vector: str = 'exact',
                 task_checkpoint: Optional[str] = None,
                 init_cfg: Optional[dict] = None,
                 **removed):
        refuse_removed_arguments(removed)
        if data_preprocessor is None:
            data_preprocessor = dict(type='FusionDataPreprocessor')
        data_preprocessor = copy.deepcopy(dict(data_preprocessor))
        data_preprocessor.setdefault('_scope_', 'tdfusion_mm')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        check_arguments(task_in_channels, hessian_vector)
        self.hessian_vector = hessian_vector
        self.fusion_backbone = build_own(fusion_backbone)
        self.loss_generator = build_own(loss_generator)
        self.fusion_loss = build_own(fusion_loss)
        self.task_model = build_task_model(task_model)
        self.task_checkpoint = task_checkpoint
        check_swap(swap_modalities, self.fusion_backbone)
        self.inner_lr = inner_lr
        self.swap_modalities = swap_modalities
        self.task_in_channels = task_in_channels
        self.normalize_hypergrad = normalize_hypergrad
        self.task_frozen = False

    def init_weights(self) -> None:
        """Initialise F, G and T; T from ``task_checkpoint`` if given."""
        if self.task_checkpoint is not None:
            # T's own initialisation (and its pretrained downloads) would be
            # overwritten: skip it.
            unwrap(self.task_model)._is_init = True
        super().init_weights()
        if self.task_checkpoint is not None:
            load_task_state_dict(unwrap(self.task_model),
                                 self.task_checkpoint)
            print_log(f'TDFusion: task model loaded from '
                      f'{self.task_checkpoint}', logger='current')

    def train(self, mode: bool = True) -> 'TDFusion':
        """Set the training mode; a frozen T always stays in eval mode."""
        super().train(mode)
        if self.task_frozen:
            self.task_model.eval()
        return self

    def freeze_task_model(self) -> None:
        """Fix T (no gradients, eval mode): it has no optimizer."""
        if self.task_frozen:
            return
        if self.task_checkpoint is None:
            print_log('TDFusion: T has no optimizer and no task_checkpoint: '
                      'it stays as its own initialisation made it',
                      logger='current', level=30)
        self.task_model.requires_grad_(False)
        self.task_model.eval()
        self.task_frozen = True

    def fuse(self, ir: Tensor, vis_bgr: Tensor) -> Dict[str, Tensor]:
        """Fuse (B, 1, H, W) infrared and (B, C, H, W) visible images (BGR or
        grey) in [0, 1] into ``luma`` (B, 1, H, W) and ``image`` (B, C, H, W),
        the fused luma with the visible image's colour restored, in [0, 1]."""
        return fuse_batch(self.fusion_backbone, ir, vis_bgr)

    def loss_weights(self, ir: Tensor, vis_bgr: Tensor) -> Tensor:
        """G's per-pixel weights (B, 2, H, W): w_ir, w_vis, for the visible
        image ``vis_bgr`` as loaded (BGR or grey)."""
        return self.loss_generator(ir, luma(vis_bgr))

    def task_losses(self, fused: Tensor, vis_bgr: Tensor,
                    data_samples: list) -> Dict[str, Tensor]:
        """T's loss dict on fused images (see
        :func:`.task_input.task_losses`)."""
        return task_input.task_losses(self.task_model, fused, vis_bgr,
                                      data_samples, self.task_in_channels,
                                      self.fusion_backbone)

    def prepare(self, data: dict) -> FusionBatch:
        """Preprocess a data batch into luma, doubled by the swap if set."""
        data = self.data_preprocessor(data, True)
        return fusion_batch(data['inputs'], data['data_samples'],
                            self.swap_modalities)

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One iteration: a meta pair (learn G) or a batch (learn F and T).

        Args:
            data (dict): ``dict(inner=batch, outer=batch)`` for G's phase,
                otherwise a batch from the dataloader.
            optim_wrapper (OptimWrapperDict): One wrapper per trained part,
                keyed ``fusion_backbone``, ``loss_generator``, ``task_model``.

        Returns:
            dict: Log variables.
        """
        meta = set(data) == {'inner', 'outer'}
        check_optimizers(optim_wrapper, self.fusion_backbone,
                         self.loss_generator, meta)
        if 'task_model' not in optim_wrapper:
            self.freeze_task_model()
        if meta:
            return self.train_loss_generator(data['inner'], data['outer'],
                                             optim_wrapper)
        return self.train_fusion_and_task(data, optim_wrapper)

    def train_fusion_and_task(self, data: dict,
                              optim_wrapper: OptimWrapperDict) -> dict:
        """Phase 2: F on G's loss, then T on the detached fused images
        (each if it has an optimizer)."""
        batch = self.prepare(data)
        log_vars = {}
        if 'fusion_backbone' in optim_wrapper:
            log_vars.update(
                self.train_fusion(batch, optim_wrapper['fusion_backbone']))
        if 'task_model' in optim_wrapper:
            log_vars.update(
                self.train_task(batch, optim_wrapper['task_model']))
        log_vars.update(nonfinite_skips=nonfinite_skips(optim_wrapper))
        return log_vars

    def train_fusion(self, batch: FusionBatch,
                     f_optim: OptimWrapper) -> Dict[str, Tensor]:
        """One step of F on the fusion loss of the batch's crops, weighted
        by G (detached)."""
        with f_optim.optim_context(self.fusion_backbone):
            with torch.no_grad():
                weights = self.loss_generator(batch.ir_crop,
                                              batch.vis_y_crop)
            fused_crop = self.fusion_backbone(batch.ir_crop,
                                              batch.vis_y_crop)
            terms = self.fusion_loss(fused_crop, batch.ir_crop,
                                     batch.vis_y_crop, weights)
        loss_fusion, log_vars = self.parse_losses(terms)
        f_optim.update_params(loss_fusion)
        log_vars.update(loss_fusion=log_vars.pop('loss'),
                        w_ir_mean=weights[:, 0].mean().detach())
        return log_vars

    def train_task(self, batch: FusionBatch,
                   t_optim: OptimWrapper) -> Dict[str, Tensor]:
        """One step of T on the batch's task images, fused without
        gradients into F."""
        with t_optim.optim_context(self.task_model):
            with torch.no_grad():
                fused = self.fusion_backbone(batch.ir, batch.vis_y)
            losses = self.task_losses(fused, batch.vis_bgr,
                                      batch.data_samples)
        loss_task, task_log = self.parse_losses(losses)
        t_optim.update_params(loss_task)
        log_vars = {k: v for k, v in task_log.items() if k != 'loss'}
        log_vars.update(loss_task=task_log['loss'])
        return log_vars

    def train_loss_generator(self, inner_data: dict, outer_data: dict,
                             optim_wrapper: OptimWrapperDict) -> dict:
        """Phase 1: one meta pair; updates G only, T is restored after (a
        frozen T takes no look-ahead step and needs no restoring)."""
        g_optim = optim_wrapper['loss_generator']
        check_hypergradient_wrapper(g_optim)
        inner, outer = self.prepare(inner_data), self.prepare(outer_data)
        t_optim = optim_wrapper['task_model'] \
            if 'task_model' in optim_wrapper else None

        def outer_task_loss(fused_outer: Tensor) -> Tensor:
            losses = self.task_losses(fused_outer, outer.vis_bgr,
                                      outer.data_samples)
            return self.parse_losses(losses)[0]

        generator = unwrap(self.loss_generator)
        with restored_task(unwrap(self.task_model), t_optim):
            if t_optim is not None:  # T's look-ahead step
                loss_lookahead = self.train_task(inner, t_optim)['loss_task']
            result = meta_hypergradient(
                unwrap(self.fusion_backbone), generator, self.fusion_loss,
                dict(ir=inner.ir_crop, vis_y=inner.vis_y_crop),
                dict(ir=outer.ir, vis_y=outer.vis_y), outer_task_loss,
                self.inner_lr,
                hessian_vector=self.hessian_vector)
            grad_scale = step_on_hypergradient(g_optim, generator,
                                               result.hypergrads,
                                               result.task_loss,
                                               self.normalize_hypergrad)

        log_vars = dict(result.fusion_losses)
        if t_optim is not None:
            log_vars.update(loss_task_lookahead=loss_lookahead.detach())
        log_vars.update(
            loss_fusion=sum(result.fusion_losses.values()),
            loss_task_meta=result.task_loss,
            hypergrad_max=grad_scale,
            nonfinite_skips=nonfinite_skips(optim_wrapper))
        return log_vars

    def forward(self, inputs: Dict[str, Tensor],
                data_samples: Optional[List] = None, mode: str = 'tensor'):
        """``tensor``: fused luma; ``predict``: T's data samples on the
        fused images."""
        if mode == 'tensor':
            return self.fuse(inputs['ir'], inputs['vis'])['luma']
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'TDFusion: invalid mode "{mode}"; '
                           'use "tensor" or "predict" (training goes '
                           'through train_step)')

    def predict(self, inputs: Dict[str, Tensor], data_samples: list) -> list:
        """Run T on the fused images; returns T's data samples, each with
        the fused luma (F's output: for a :class:`PassThroughFusion`, its
        source) added as ``pred_fusion.luma`` ((1, H, W) in [0, 1],
        the batch padding cut off to the sample's ``img_shape``), which
        :class:`FusionMetric` scores."""
        fused = self.fusion_backbone(inputs['ir'], luma(inputs['vis']))
        images = task_input.task_image(fused, inputs['vis'],
                                       self.task_in_channels,
                                       self.fusion_backbone)
        task = unwrap(self.task_model)
        data = task_input.task_data(task, images, data_samples, False)
        results = task(data['inputs'], data['data_samples'], mode='predict')
        for sample, fused_luma in zip(results, fused):
            height, width = sample.metainfo.get('img_shape',
                                                fused_luma.shape[-2:])[:2]
            sample.pred_fusion = PixelData(
                luma=fused_luma[:, :height, :width])
        return results
