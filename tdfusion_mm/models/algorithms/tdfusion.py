"""TDFusion: a fusion network trained through a learnable loss for a task."""
import copy
from typing import Dict, List, NamedTuple, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict
from mmengine.structures import PixelData
from torch import Tensor

from tdfusion_mm.models.meta import (HESSIAN_VECTOR_MODES, meta_hypergradient,
                                    rank_mean)
from tdfusion_mm.registry import MODELS
from tdfusion_mm.utils.checkpoint import load_task_state_dict
from tdfusion_mm.utils.colour import luma, restore_colour
from tdfusion_mm.utils.model_wrappers import unwrap
from .builder import build_own, build_task_model, refuse_removed_arguments


class FusionBatch(NamedTuple):
    """A preprocessed batch, possibly doubled by the modality swap.

    Attributes:
        ir: The infrared at task size, (B, 1, H, W) in [0, 1].
        vis_y: The visible image's luma (Y), (B, 1, H, W) in [0, 1].
        vis_bgr: The visible image as loaded (B, C, H, W), BGR (C=3) or grey
            (C=1), for the chroma.
        ir_crop, vis_y_crop: Infrared and visible-luma crops for the fusion
            loss.
        data_samples: The task's data samples (one per image).
    """
    ir: Tensor
    vis_y: Tensor
    vis_bgr: Tensor
    ir_crop: Tensor
    vis_y_crop: Tensor
    data_samples: list


@MODELS.register_module()
class TDFusion(BaseModel):
    """Task-driven fusion: F fuses, G weighs F's loss, T solves the task.

    F is ``fusion_backbone``, G ``loss_generator``, T ``task_model``.
    Images are in [0, 1]: ``ir`` the infrared (one channel), ``vis_bgr`` the
    visible image as loaded (BGR, or grey; the data preprocessor's
    ``inputs['vis']``) and ``vis_y`` its luma. F, G and the fusion loss take
    ``(ir, vis_y)``; :meth:`fuse` and :meth:`loss_weights` ``(ir, vis_bgr)``.

    Training alternates two phases (see :class:`MetaFusionTrainLoop`):

    - learning G (``train_step`` gets ``dict(inner=batch, outer=batch)``): T
      takes a real look-ahead step on F's fused inner images, F a virtual
      step on the G-weighted fusion loss of the inner crops; the task loss
      of T on the stepped F's fusion of the outer batch is differentiated
      into G, G is updated, and T (weights, buffers, optimizer state) is
      restored;
    - learning F and T (``train_step`` gets a batch): F steps on the fusion
      loss with G's weights detached, T on the detached fused images. The
      task loss reaches F only through G.

    The parts with an optimizer wrapper train. A T without one
    (``optim_wrapper.task_model=None``, typically from ``task_checkpoint``)
    is frozen: eval mode, no look-ahead step, never updated. A
    :class:`PassThroughFusion` F (no parameters) makes a single-modality
    baseline: T trains alone.

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
        if task_in_channels not in (1, 3):
            raise ValueError('model.task_in_channels must be 1 or 3, got '
                             f'{task_in_channels}')
        if hessian_vector not in HESSIAN_VECTOR_MODES:
            raise ValueError('model.hessian_vector must be one of '
                             f'{HESSIAN_VECTOR_MODES}, got {hessian_vector!r}')
        self.hessian_vector = hessian_vector
        self.fusion_backbone = build_own(fusion_backbone)
        self.loss_generator = build_own(loss_generator)
        self.fusion_loss = build_own(fusion_loss)
        self.task_model = build_task_model(task_model)
        self.task_checkpoint = task_checkpoint
        if swap_modalities and not any(
                True for _ in self.fusion_backbone.parameters()):
            raise ValueError(
                f'model.swap_modalities=True with a '
                f'{type(self.fusion_backbone).__name__} F, which has no '
                'parameters to learn from the swap (T would see the other '
                'modality): set model.swap_modalities=False')
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

    # ------------------------------------------------------------- fusion
    def fuse(self, ir: Tensor, vis_bgr: Tensor) -> Dict[str, Tensor]:
        """Fuse a batch.

        Args:
            ir (Tensor): (B, 1, H, W) infrared in [0, 1].
            vis_bgr (Tensor): (B, C, H, W) visible in [0, 1], BGR or grey.

        Returns:
            dict: ``luma`` (B, 1, H, W) and ``image`` (B, C, H, W), the fused
            luma with the visible image's colour restored, both in [0, 1].
        """
        from .luma_fusion import fuse_batch
        return fuse_batch(self.fusion_backbone, ir, vis_bgr)

    def loss_weights(self, ir: Tensor, vis_bgr: Tensor) -> Tensor:
        """G's per-pixel weights (B, 2, H, W): w_ir, w_vis, for the visible
        image ``vis_bgr`` as loaded (BGR or grey)."""
        return self.loss_generator(ir, luma(vis_bgr))

    def task_image(self, fused: Tensor, vis_bgr: Tensor) -> Tensor:
        """What T takes: fused luma (B,1) or colour (B,3), in [0, 255].

        The colour comes from the visible image ``vis_bgr``; an F whose
        output it does not fit (``keeps_visible_colour=False``, e.g. the
        infrared passed through), or a grey visible image, gives grey."""
        if self.task_in_channels == 1:
            return fused * 255
        if vis_bgr.shape[1] == 3 and getattr(
                unwrap(self.fusion_backbone), 'keeps_visible_colour', True):
            return restore_colour(fused, vis_bgr) * 255
        return fused.expand(-1, 3, -1, -1) * 255

    def task_losses(self, fused: Tensor, vis_bgr: Tensor,
                    data_samples: list) -> Dict[str, Tensor]:
        """T's loss dict on fused images (T's data preprocessor applied).

        Non-finite fused images never reach T (a detector's assigner fails
        on them before any loss exists): the loss is then NaN, which the
        optimizer wrapper counts as a skipped update of whatever it would
        have trained (T, or G through the meta step)."""
        if not torch.isfinite(fused).all():
            return self.nonfinite_fusion_loss(fused)
        task = unwrap(self.task_model)
        data = task.data_preprocessor(
            dict(inputs=self.task_image(fused, vis_bgr),
                 data_samples=data_samples), True)
        return self.task_model(data['inputs'], data['data_samples'],
                               mode='loss')

    @staticmethod
    def nonfinite_fusion_loss(fused: Tensor) -> Dict[str, Tensor]:
        """A NaN task loss standing for T's on a non-finite fused batch
        (connected to ``fused``'s graph, so that the meta step runs on)."""
        print_log('TDFusion: non-finite fused image, the task network is '
                  'not run on this batch', logger='current', level=30)
        return dict(loss=fused.sum() * float('nan'))

    # ----------------------------------------------------- batch handling
    def prepare(self, data: dict) -> FusionBatch:
        """Preprocess a data batch into luma, doubled by the swap if set."""
        data = self.data_preprocessor(data, True)
        inputs, samples = data['inputs'], data['data_samples']
        ir, vis_bgr = inputs['ir'], inputs['vis']
        vis_y = luma(vis_bgr)
        ir_crop = inputs.get('ir_crop', ir)
        vis_y_crop = luma(inputs['vis_crop']) \
            if 'vis_crop' in inputs else vis_y
        if self.swap_modalities:
            ir, vis_y = torch.cat([ir, vis_y]), torch.cat([vis_y, ir])
            ir_crop, vis_y_crop = (torch.cat([ir_crop, vis_y_crop]),
                                   torch.cat([vis_y_crop, ir_crop]))
            vis_bgr = torch.cat([vis_bgr, vis_bgr])
            samples = list(samples) + copy.deepcopy(list(samples))
        return FusionBatch(ir, vis_y, vis_bgr, ir_crop, vis_y_crop, samples)

    # ----------------------------------------------------------- training
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
        self.check_optimizers(optim_wrapper, meta)
        if 'task_model' not in optim_wrapper:
            self.freeze_task_model()
        if meta:
            return self.train_loss_generator(data['inner'], data['outer'],
                                             optim_wrapper)
        return self.train_fusion_and_task(data, optim_wrapper)

    def check_optimizers(self, optim_wrapper: OptimWrapperDict,
                         meta_phase: bool) -> None:
        """Refuse optimizer wrappers that leave a phase nothing to train:
        learning G needs F's and G's, learning F and T one of theirs."""
        keys = set(optim_wrapper.keys())
        if not meta_phase:
            if not keys & {'fusion_backbone', 'task_model'}:
                raise KeyError('optim_wrapper has neither `fusion_backbone` '
                               'nor `task_model`: nothing to train')
        elif not all(
                any(p.requires_grad for p in part.parameters())
                for part in (self.fusion_backbone, self.loss_generator)):
            raise ValueError(
                f'TDFusion: nothing to meta-learn with fusion_backbone '
                f'{type(self.fusion_backbone).__name__} and loss_generator '
                f'{type(self.loss_generator).__name__}: set '
                'train_cfg.meta_steps=0')
        elif not keys >= {'fusion_backbone', 'loss_generator'}:
            missing = sorted({'fusion_backbone', 'loss_generator'} - keys)
            raise KeyError(f'optim_wrapper has no {missing}: learning G '
                           'needs an optimizer wrapper for F and one for G')

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
        log_vars.update(nonfinite_skips=self.nonfinite_skips(optim_wrapper))
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
        """One step of T on the batch's (detached) task images."""
        loss_task, task_log = self.detached_task_loss(batch, t_optim)
        t_optim.update_params(loss_task)
        log_vars = {k: v for k, v in task_log.items() if k != 'loss'}
        log_vars.update(loss_task=task_log['loss'])
        return log_vars

    def detached_task_loss(self, batch: FusionBatch,
                           t_optim: OptimWrapper) -> Tuple[Tensor, dict]:
        """T's parsed loss (loss, log variables) on the batch's task images,
        computed without gradients into F, in ``t_optim``'s context."""
        with t_optim.optim_context(self.task_model):
            with torch.no_grad():
                fused = self.fusion_backbone(batch.ir, batch.vis_y)
            losses = self.task_losses(fused, batch.vis_bgr,
                                      batch.data_samples)
        return self.parse_losses(losses)

    def train_loss_generator(self, inner_data: dict, outer_data: dict,
                             optim_wrapper: OptimWrapperDict) -> dict:
        """Phase 1: one meta pair; updates G only, T is restored after (a
        frozen T takes no look-ahead step and needs no restoring)."""
        g_optim = optim_wrapper['loss_generator']
        if isinstance(g_optim, AmpOptimWrapper):
            raise TypeError(
                'optim_wrapper.loss_generator must not be an AmpOptimWrapper: '
                "G's gradient is set from its float32 hypergradient, not "
                'back-propagated from a scaled loss')
        if not hasattr(g_optim, 'finite_or_skip'):
            raise TypeError(
                'optim_wrapper.loss_generator must be a '
                'NonFiniteSkipOptimWrapper (it skips a non-finite '
                f'hypergradient), got {type(g_optim).__name__}')
        inner, outer = self.prepare(inner_data), self.prepare(outer_data)
        t_optim = optim_wrapper['task_model'] \
            if 'task_model' in optim_wrapper else None
        if t_optim is not None:
            task = unwrap(self.task_model)
            saved_task = {k: v.clone() for k, v in task.state_dict().items()}
            saved_optim = copy.deepcopy(t_optim.state_dict())
            # (A look-ahead step skipped stays counted.)
            saved_optim.pop('nonfinite_skips', None)
            loss_lookahead = self.lookahead_step(inner, t_optim)

        def outer_task_loss(fused_outer: Tensor) -> Tensor:
            losses = self.task_losses(fused_outer, outer.vis_bgr,
                                      outer.data_samples)
            return self.parse_losses(losses)[0]

        generator = unwrap(self.loss_generator)
        result = meta_hypergradient(
            unwrap(self.fusion_backbone), generator, self.fusion_loss,
            dict(ir=inner.ir_crop, vis_y=inner.vis_y_crop),
            dict(ir=outer.ir, vis_y=outer.vis_y), outer_task_loss,
            self.inner_lr,
            hessian_vector=self.hessian_vector)
        grad_scale = self.average_hypergrads(result.hypergrads)
        if g_optim.finite_or_skip(grad_scale, result.task_loss,
                                  what='hypergradient'):
            divisor = grad_scale.clamp_min(1e-30) \
                if self.normalize_hypergrad else 1
            for name, param in generator.named_parameters():
                if name in result.hypergrads:
                    param.grad = result.hypergrads[name] / divisor
            g_optim.step()
            g_optim.zero_grad()

        log_vars = {k: v for k, v in result.fusion_losses.items()}
        if t_optim is not None:
            task.load_state_dict(saved_task)
            t_optim.load_state_dict(saved_optim)
            log_vars.update(loss_task_lookahead=loss_lookahead)
        log_vars.update(
            loss_fusion=sum(result.fusion_losses.values()),
            loss_task_meta=result.task_loss,
            hypergrad_max=grad_scale,
            nonfinite_skips=self.nonfinite_skips(optim_wrapper))
        return log_vars

    def lookahead_step(self, inner: FusionBatch,
                       t_optim: OptimWrapper) -> Tensor:
        """T's look-ahead step on the un-stepped F's fused inner images.

        Returns:
            Tensor: The (detached) task loss of the step.
        """
        loss_lookahead, _ = self.detached_task_loss(inner, t_optim)
        t_optim.update_params(loss_lookahead)
        return loss_lookahead.detach()

    @staticmethod
    def average_hypergrads(hypergrads: Dict[str, Tensor]) -> Tensor:
        """Average G's hypergradient over ranks, in place.

        Returns:
            Tensor: Its largest magnitude (non-finite if any entry is).
        """
        grads = rank_mean(hypergrads.values())
        return torch.stack([g.abs().max() for g in grads]).max()

    @staticmethod
    def nonfinite_skips(optim_wrapper: OptimWrapperDict) -> Tensor:
        """Updates skipped so far for a non-finite value, all wrappers
        together (see ``NonFiniteSkipOptimWrapper``)."""
        return torch.tensor(
            float(
                sum(
                    getattr(wrapper, 'nonfinite_skips', 0)
                    for wrapper in optim_wrapper.values())))

    # --------------------------------------------------------- inference
    def forward(self,
                inputs: Dict[str, Tensor],
                data_samples: Optional[List] = None,
                mode: str = 'tensor'):
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
        task = unwrap(self.task_model)
        data = task.data_preprocessor(
            dict(inputs=self.task_image(fused, inputs['vis']),
                 data_samples=data_samples), False)
        results = task(data['inputs'], data['data_samples'], mode='predict')
        for sample, fused_luma in zip(results, fused):
            height, width = sample.metainfo.get('img_shape',
                                                fused_luma.shape[-2:])[:2]
            sample.pred_fusion = PixelData(
                luma=fused_luma[:, :height, :width])
        return results
