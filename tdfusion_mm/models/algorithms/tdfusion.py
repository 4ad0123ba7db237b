"""TDFusion: a fusion network trained through a learnable loss for a task."""
import copy
from typing import Dict, List, NamedTuple, Optional, Tuple, Union

import torch
from mmengine.config import ConfigDict
from mmengine.hub import get_config
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict
from mmengine.structures import PixelData
from torch import Tensor, nn

from tdfusion_mm.models.meta import (HESSIAN_VECTOR_MODES, meta_hypergradient,
                                    rank_mean)
from tdfusion_mm.registry import MODELS
from tdfusion_mm.utils.checkpoint import load_task_state_dict
from tdfusion_mm.utils.colour import luma, restore_colour
from tdfusion_mm.utils.dist import finite_on_every_rank
from tdfusion_mm.utils.model_wrappers import unwrap

OPTIM_KEYS = ('fusion_backbone', 'loss_generator', 'task_model')
TASK_INPUTS = ('fused', 'visible', 'infrared')


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


def buffers_of(module: nn.Module) -> Dict[str, Tensor]:
    """Copies of a module's buffers (BatchNorm statistics and the like)."""
    return {k: v.clone() for k, v in unwrap(module).named_buffers()}


@MODELS.register_module()
class TDFusion(BaseModel):
    """Task-driven fusion: F fuses, G weighs F's loss, T solves the task.

    The paper's letters are attributes: F is ``fusion_backbone`` (the whole
    fusion network), G ``loss_generator``, T ``task_model``; the fusion loss
    is ``fusion_loss``. Images are in [0, 1]; ``ir`` is the infrared (one
    channel), ``vis_bgr`` the visible image as loaded (BGR, or one channel
    for a grey one) and ``vis_y`` its luma (Y). F, G and the fusion loss
    take ``(ir, vis_y)``; :meth:`fuse` and :meth:`loss_weights` take
    ``(ir, vis_bgr)`` and compute the luma themselves. (The data
    preprocessor's ``inputs['vis']`` is ``vis_bgr``.)

    Training alternates two phases (see :class:`MetaFusionTrainLoop`):

    - learning G (``train_step`` gets ``dict(inner=batch, outer=batch)``): T
      takes a real look-ahead step on F's fused inner images, F takes a
      virtual step on the G-weighted fusion loss of the inner crops, the task
      loss of T on the stepped F's fusion of the outer batch is
      differentiated into G, G is updated, and T (weights, buffers, optimizer
      state) is restored to its state before the pair;
    - learning F and T (``train_step`` gets a batch): F takes a step on the
      fusion loss with G's weights detached; T takes a step on the detached
      fused images. The task loss reaches F only through G.

    With ``freeze_task_model=True`` T is a fixed network (typically warm
    started from ``task_checkpoint``): it stays in eval mode, has no
    optimizer, takes no look-ahead step (the meta step differentiates the
    task loss of T as it is) and is never updated; F and G adapt to it.

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
            visible exchanged, as in the paper. Defaults to True.
        task_in_channels (int): 3 gives T the fused luma with the visible
            image's colour restored (BGR, in [0, 255], then T's own data
            preprocessor normalises it); 1 gives it the fused luma only.
            Defaults to 3.
        normalize_hypergrad (bool): Divide G's hypergradient by its largest
            magnitude before G's optimizer step (the reference update is SGD
            on this normalised gradient). Defaults to True.
        task_input (str): What T sees: ``'fused'`` (TDFusion), or, for the
            single-modality baselines, ``'visible'`` or ``'infrared'``; these
            train T alone (F is neither trained nor used, no swap, no meta
            phase) and report that modality as ``pred_fusion``. Defaults to
            ``'fused'``.
        hessian_vector (str): ``'exact'`` (F differentiated in forward
            mode) or ``'finite_difference'`` (two first-order passes, for an
            F whose layers lack forward-mode derivatives); see
            :func:`meta_hypergradient`. Defaults to ``'exact'``.
        task_checkpoint (str, optional): A checkpoint of T's architecture
            saved by mmdet's/mmseg's own tools (its ``state_dict``; a
            TDFusion checkpoint's ``task_model.*`` keys work too), loaded
            strictly by :meth:`init_weights` in place of T's own
            initialisation. Defaults to None.
        freeze_task_model (bool): Keep T fixed (see above). Defaults to
            False.
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
                 task_input: str = 'fused',
                 hessian_vector: str = 'exact',
                 task_checkpoint: Optional[str] = None,
                 freeze_task_model: bool = False,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='FusionDataPreprocessor')
        data_preprocessor = copy.deepcopy(dict(data_preprocessor))
        data_preprocessor.setdefault('_scope_', 'tdfusion_mm')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if task_in_channels not in (1, 3):
            raise ValueError('model.task_in_channels must be 1 or 3, got '
                             f'{task_in_channels}')
        if task_input not in TASK_INPUTS:
            raise ValueError(f'model.task_input must be one of {TASK_INPUTS}'
                             f', got {task_input!r}')
        self.task_input = task_input
        if hessian_vector not in HESSIAN_VECTOR_MODES:
            raise ValueError('model.hessian_vector must be one of '
                             f'{HESSIAN_VECTOR_MODES}, got {hessian_vector!r}')
        self.hessian_vector = hessian_vector
        self.fusion_backbone = build_own(fusion_backbone)
        self.loss_generator = build_own(loss_generator)
        self.fusion_loss = build_own(fusion_loss)
        self.task_model = build_task_model(task_model)
        self.task_checkpoint = task_checkpoint
        self.freeze_task_model = freeze_task_model
        if freeze_task_model:
            if task_input != 'fused':
                raise ValueError(
                    'model.freeze_task_model=True with task_input='
                    f'{task_input!r} leaves nothing to train')
            self.task_model.requires_grad_(False)
            self.task_model.eval()
        self.inner_lr = inner_lr
        self.swap_modalities = swap_modalities
        self.task_in_channels = task_in_channels
        self.normalize_hypergrad = normalize_hypergrad
        # Updates skipped for a non-finite loss or gradient, per optimizer
        # (in OPTIM_KEYS order); saved with the weights.
        self.register_buffer('nonfinite_skips',
                             torch.zeros(len(OPTIM_KEYS), dtype=torch.long))

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
        elif self.freeze_task_model:
            print_log('TDFusion: freeze_task_model without task_checkpoint: '
                      'T stays as its own initialisation made it',
                      logger='current', level=30)

    def train(self, mode: bool = True) -> 'TDFusion':
        """Set the training mode; a frozen T always stays in eval mode."""
        super().train(mode)
        if self.freeze_task_model:
            self.task_model.eval()
        return self

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

    def task_luma(self, ir: Tensor, vis_y: Tensor) -> Tensor:
        """The luma T works on (B, 1, H, W): F's fusion of the infrared and
        the visible luma, or one of them for the single-modality baselines."""
        if self.task_input == 'visible':
            return vis_y
        if self.task_input == 'infrared':
            return ir
        return self.fusion_backbone(ir, vis_y)

    def task_image(self, fused: Tensor, vis_bgr: Tensor) -> Tensor:
        """What T takes: fused luma (B,1) or colour (B,3), in [0, 255].

        The colour comes from the visible image ``vis_bgr``; an infrared-only
        T, or a grey visible image, gives grey."""
        if self.task_in_channels == 1:
            return fused * 255
        if vis_bgr.shape[1] == 3 and self.task_input != 'infrared':
            return restore_colour(fused, vis_bgr) * 255
        return fused.expand(-1, 3, -1, -1) * 255

    def task_losses(self, fused: Tensor, vis_bgr: Tensor,
                    data_samples: list) -> Dict[str, Tensor]:
        """T's loss dict on fused images (T's data preprocessor applied).

        Non-finite fused images never reach T (a detector's assigner fails
        on them before any loss exists): the loss is then NaN, which the
        non-finite guard counts as a skipped update of whatever it would
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
        if self.swap_modalities and self.task_input == 'fused':
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
            optim_wrapper (OptimWrapperDict): Keys ``fusion_backbone``,
                ``loss_generator`` and ``task_model``.

        Returns:
            dict: Log variables.
        """
        meta = set(data) == {'inner', 'outer'}
        required = self.required_optimizers(meta)
        missing = [k for k in required if k not in optim_wrapper]
        if missing:
            raise KeyError(f'optim_wrapper has no {missing}: TDFusion needs '
                           f'one optimizer wrapper per key of {required}')
        if meta:
            return self.train_loss_generator(data['inner'], data['outer'],
                                             optim_wrapper)
        return self.train_fusion_and_task(data, optim_wrapper)

    def required_optimizers(self, meta_phase: bool) -> tuple:
        """Keys of the optimizer wrappers a phase steps.

        Learning G needs all three (F's and G's with a frozen T). Learning F
        and T needs F's and T's (F's with a frozen T); the single-modality
        baselines need T's only.

        Raises:
            ValueError: For the meta phase, if there is no G to learn.
        """
        if meta_phase:
            if self.task_input != 'fused' or not any(
                    p.requires_grad
                    for p in self.loss_generator.parameters()):
                raise ValueError(
                    f'TDFusion: nothing to meta-learn with task_input='
                    f'{self.task_input!r} and loss_generator '
                    f'{type(self.loss_generator).__name__}: set '
                    'train_cfg.meta_steps=0')
            return OPTIM_KEYS[:2] if self.freeze_task_model else OPTIM_KEYS
        if self.task_input != 'fused':
            return ('task_model', )
        if self.freeze_task_model:
            return ('fusion_backbone', )
        return ('fusion_backbone', 'task_model')

    def train_fusion_and_task(self, data: dict,
                              optim_wrapper: OptimWrapperDict) -> dict:
        """Phase 2: F on G's loss, then T on the detached fused images."""
        batch = self.prepare(data)
        if self.task_input != 'fused':
            return self.train_task(batch, optim_wrapper['task_model'])
        f_buffers = buffers_of(self.fusion_backbone)
        f_optim = optim_wrapper['fusion_backbone']
        with f_optim.optim_context(self.fusion_backbone):
            with torch.no_grad():
                weights = self.loss_generator(batch.ir_crop,
                                              batch.vis_y_crop)
            fused_crop = self.fusion_backbone(batch.ir_crop,
                                              batch.vis_y_crop)
            terms = self.fusion_loss(fused_crop, batch.ir_crop,
                                     batch.vis_y_crop, weights)
        loss_fusion, log_vars = self.parse_losses(terms)
        self.guarded_update('fusion_backbone', f_optim, loss_fusion,
                            self.fusion_backbone, f_buffers)

        log_vars.update(loss_fusion=log_vars.pop('loss'),
                        w_ir_mean=weights[:, 0].mean().detach())
        if self.freeze_task_model:
            log_vars.update(
                nonfinite_skips=self.nonfinite_skips.sum().float())
        else:
            log_vars.update(
                self.train_task(batch, optim_wrapper['task_model']))
        return log_vars

    def train_task(self, batch: FusionBatch,
                   t_optim: OptimWrapper) -> Dict[str, Tensor]:
        """One step of T on the batch's (detached) task images."""
        t_buffers = buffers_of(self.task_model)
        loss_task, task_log = self.detached_task_loss(batch, t_optim)
        self.guarded_update('task_model', t_optim, loss_task, self.task_model,
                            t_buffers)
        log_vars = {k: v for k, v in task_log.items() if k != 'loss'}
        log_vars.update(loss_task=task_log['loss'],
                        nonfinite_skips=self.nonfinite_skips.sum().float())
        return log_vars

    def detached_task_loss(self, batch: FusionBatch,
                           t_optim: OptimWrapper) -> Tuple[Tensor, dict]:
        """T's parsed loss (loss, log variables) on the batch's task images,
        computed without gradients into F, in ``t_optim``'s context."""
        with t_optim.optim_context(self.task_model):
            with torch.no_grad():
                fused = self.task_luma(batch.ir, batch.vis_y)
            losses = self.task_losses(fused, batch.vis_bgr,
                                      batch.data_samples)
        return self.parse_losses(losses)

    def train_loss_generator(self, inner_data: dict, outer_data: dict,
                             optim_wrapper: OptimWrapperDict) -> dict:
        """Phase 1: one meta pair; updates G only, T is restored after (a
        frozen T takes no look-ahead step and needs no restoring)."""
        self.required_optimizers(meta_phase=True)  # is there a G to learn?
        if isinstance(optim_wrapper['loss_generator'], AmpOptimWrapper):
            raise TypeError(
                'optim_wrapper.loss_generator must not be an AmpOptimWrapper: '
                "G's gradient is set from its float32 hypergradient, not "
                'back-propagated from a scaled loss')
        inner, outer = self.prepare(inner_data), self.prepare(outer_data)
        if not self.freeze_task_model:
            t_optim = optim_wrapper['task_model']
            task = unwrap(self.task_model)
            saved_task = {k: v.clone() for k, v in task.state_dict().items()}
            saved_optim = copy.deepcopy(t_optim.state_dict())
            loss_lookahead = self.lookahead_step(inner, t_optim)

        def outer_task_loss(fused_outer: Tensor) -> Tensor:
            losses = self.task_losses(fused_outer, outer.vis_bgr,
                                      outer.data_samples)
            return self.parse_losses(losses)[0]

        generator = unwrap(self.loss_generator)
        result = meta_hypergradient(
            unwrap(self.fusion_backbone), generator, self.fusion_loss,
            dict(ir=inner.ir_crop, vis=inner.vis_y_crop),
            dict(ir=outer.ir, vis=outer.vis_y), outer_task_loss,
            self.inner_lr,
            hessian_vector=self.hessian_vector)
        grad_scale = self.average_hypergrads(result.hypergrads)
        g_optim = optim_wrapper['loss_generator']
        if finite_on_every_rank(grad_scale, result.task_loss):
            divisor = grad_scale.clamp_min(1e-30) \
                if self.normalize_hypergrad else 1
            for name, param in generator.named_parameters():
                if name in result.hypergrads:
                    param.grad = result.hypergrads[name] / divisor
            g_optim.step()
            g_optim.zero_grad()
        else:
            self.skip_update('loss_generator', 'hypergradient')

        log_vars = {k: v for k, v in result.fusion_losses.items()}
        if not self.freeze_task_model:
            task.load_state_dict(saved_task)
            t_optim.load_state_dict(saved_optim)
            log_vars.update(loss_task_lookahead=loss_lookahead)
        log_vars.update(
            loss_fusion=sum(result.fusion_losses.values()),
            loss_task_meta=result.task_loss,
            hypergrad_max=grad_scale,
            nonfinite_skips=self.nonfinite_skips.sum().float())
        return log_vars

    def lookahead_step(self, inner: FusionBatch,
                       t_optim: OptimWrapper) -> Tensor:
        """T's look-ahead step on the un-stepped F's fused inner images.

        Returns:
            Tensor: The (detached) task loss of the step.
        """
        loss_lookahead, _ = self.detached_task_loss(inner, t_optim)
        # (No buffer snapshot: all of T is restored after the pair.)
        self.guarded_update('task_model', t_optim, loss_lookahead)
        return loss_lookahead.detach()

    @staticmethod
    def average_hypergrads(hypergrads: Dict[str, Tensor]) -> Tensor:
        """Average G's hypergradient over ranks, in place.

        Returns:
            Tensor: Its largest magnitude (non-finite if any entry is).
        """
        grads = rank_mean(hypergrads.values())
        return torch.stack([g.abs().max() for g in grads]).max()

    def guarded_update(self,
                       name: str,
                       optim_wrapper: OptimWrapper,
                       loss: Tensor,
                       module: Optional[nn.Module] = None,
                       buffers: Optional[Dict[str, Tensor]] = None) -> bool:
        """Backward and step, unless the loss (on any rank) or a gradient
        (averaged over the ranks by DDP) is not finite.

        A skipped update leaves the weights and the optimizer state as they
        were, and puts back ``buffers`` of ``module`` (e.g. BatchNorm
        statistics that the forward pass updated) if given. AMP wrappers
        leave non-finite gradients to their loss scaler.

        Returns:
            bool: Whether the update was made.
        """
        what = None if finite_on_every_rank(loss) else 'loss'
        if what is None:
            optim_wrapper.backward(loss)
            if not isinstance(optim_wrapper, AmpOptimWrapper) and not all(
                    torch.isfinite(p.grad).all()
                    for group in optim_wrapper.param_groups
                    for p in group['params'] if p.grad is not None):
                what = 'gradient'
        if what is not None:
            optim_wrapper.zero_grad()
            if buffers is not None:
                unwrap(module).load_state_dict(buffers, strict=False)
            self.skip_update(name, what)
            return False
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        return True

    def skip_update(self, name: str, what: str) -> None:
        """Count and log an update skipped for a non-finite value."""
        self.nonfinite_skips[OPTIM_KEYS.index(name)] += 1
        print_log(f'TDFusion: non-finite {what}, {name} not updated '
                  f'(skipped so far: {self.nonfinite_skips.tolist()} for '
                  f'{list(OPTIM_KEYS)})', logger='current', level=30)

    # --------------------------------------------------------- inference
    def forward(self,
                inputs: Dict[str, Tensor],
                data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        """``tensor``: fused luma; ``predict``: T's data samples on the
        fused images; ``loss``: fusion and task losses of the batch."""
        if mode == 'tensor':
            return self.fuse(inputs['ir'], inputs['vis'])['luma']
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        raise RuntimeError(f'TDFusion: invalid mode "{mode}"; '
                           'use "tensor", "predict" or "loss"')

    def predict(self, inputs: Dict[str, Tensor], data_samples: list) -> list:
        """Run T on the fused images; returns T's data samples, each with
        the fused luma (or the baseline's single modality, see
        ``task_input``) added as ``pred_fusion.luma`` ((1, H, W) in [0, 1],
        the batch padding cut off to the sample's ``img_shape``), which
        :class:`FusionMetric` scores."""
        fused = self.task_luma(inputs['ir'], luma(inputs['vis']))
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

    def loss(self, inputs: Dict[str, Tensor], data_samples: list) -> dict:
        """Fusion loss (with G's weights) and task loss of one batch."""
        ir, vis_bgr = inputs['ir'], inputs['vis']
        vis_y = luma(vis_bgr)
        fused = self.task_luma(ir, vis_y)
        losses = {}
        if self.task_input == 'fused':
            losses = self.fusion_loss(
                fused, ir, vis_y, self.loss_generator(ir, vis_y).detach())
        losses.update(self.task_losses(fused.detach(), vis_bgr, data_samples))
        return losses
