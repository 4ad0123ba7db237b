"""FusionInferencer: fuse infrared-visible pairs with a trained model and,
when the model has one, run its task network on the fusion."""
import copy
import json
import os.path as osp
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.infer import BaseInferencer
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement
from torch import nn

from tdfusion_mm.models.algorithms.luma_fusion import fuse_pair
from tdfusion_mm.models.fusion_backbones import convert_official_state_dict
from tdfusion_mm.registry import DATASETS, MODELS
from tdfusion_mm.utils import luma_array, register_all_modules
from tdfusion_mm.utils.checkpoint import check_state_fits, load_checkpoint_file
from tdfusion_mm.utils.user_errors import UserError
from tdfusion_mm.visualization import fusion_panel

from .image_io import (FloatRange, match_folders, read_image, to_uint8_image,
                       to_unit, write_bytes, write_image)
from .memory import check_fusion_memory
from .model_index import is_model_name, resolve_model

PairInput = Union[dict, Sequence]
_LOADER = 'LoadIrVisFromFile'


def _type_name(transform: dict) -> str:
    return str(transform.get('type', '')).split('.')[-1]


def read_pair(ir: Union[str, np.ndarray],
              vis: Union[str, np.ndarray],
              float_range: FloatRange = None) -> dict:
    """Read (if paths) and check one pair.

    Returns:
        dict: ``ir`` (H, W) and ``vis`` (H, W) or (H, W, 3) BGR as stored
        (``uint8``, ``uint16`` or float), ``ir_unit``/``vis_unit`` the same
        scaled to float32 [0, 1], and ``ir_path``/``vis_path`` (None for
        arrays).

    Raises:
        UserError: An unreadable or unsupported image, or sizes that differ.
    """
    item = {}
    for key, src in (('ir', ir), ('vis', vis)):
        name = src if isinstance(src, str) else f'{key} array'
        img = read_image(src) if isinstance(src, str) else np.asarray(src)
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[..., 0]
        if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
            raise UserError(f'{name}: expected an (H, W) or (H, W, 3) image,'
                            f' got shape {img.shape}')
        if key == 'ir' and img.ndim == 3:  # IR stored as BGR (R=G=B)
            img = luma_array(img)
        item[key] = img
        item[f'{key}_unit'] = to_unit(img, float_range, name)
        item[f'{key}_path'] = src if isinstance(src, str) else None
    if item['ir'].shape[:2] != item['vis'].shape[:2]:
        raise UserError(
            f'sizes differ: {item["ir_path"] or "infrared"} is '
            f'{item["ir"].shape[:2]}, {item["vis_path"] or "visible"} is '
            f'{item["vis"].shape[:2]} (H, W)')
    return item


def list_pairs(inputs: Union[PairInput, List[PairInput]]) -> List[dict]:
    """Normalise the inputs to a list of ``dict(name, ir, vis)``.

    Accepted: ``dict(ir=..., vis=...)`` or a 2-tuple ``(ir, vis)``, or a
    list of them, where ir and vis are image paths, arrays, or two folders
    (matched by file name without extension). A pair of paths is named
    after the visible file, a pair of arrays by its index.
    """
    if isinstance(inputs, dict) or (isinstance(inputs, tuple)
                                    and len(inputs) == 2):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise UserError('inputs: give dict(ir=..., vis=...), (ir, vis) or a '
                        'non-empty list of them')
    pairs = []
    for index, pair in enumerate(inputs):
        if isinstance(pair, dict):
            if set(pair) - {'ir', 'vis'} or len(pair) != 2:
                raise UserError(f'input {index}: a pair is dict(ir=..., '
                                f'vis=...), got keys {sorted(pair)}')
            ir, vis = pair['ir'], pair['vis']
        elif isinstance(pair, (list, tuple)) and len(pair) == 2:
            ir, vis = pair
        else:
            raise UserError(f'input {index}: not a pair (ir, vis)')
        folders = [isinstance(p, str) and osp.isdir(p) for p in (ir, vis)]
        if all(folders):
            pairs += [dict(name=name, ir=ir_path, vis=vis_path)
                      for name, ir_path, vis_path in match_folders([ir, vis])]
        elif any(folders):
            raise UserError(f'input {index}: give two files or two folders,'
                            f' got {ir} and {vis}')
        else:
            name = osp.splitext(osp.basename(vis))[0] \
                if isinstance(vis, str) else f'{index:06d}'
            pairs.append(dict(name=name, ir=ir, vis=vis))
    names = [p['name'] for p in pairs]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise UserError(f'several pairs are named {dup[:5]}: their outputs '
                        'would overwrite each other')
    return pairs


def load_fusion_state(checkpoint: str) -> dict:
    """The state dict of a checkpoint (``state_dict`` of ours, or the bare
    dict of an official or converted one), errors naming the file."""
    try:
        state = load_checkpoint_file(checkpoint)
    except (OSError, RuntimeError, ValueError) as err:
        raise UserError(str(err)) from err
    if not isinstance(state, dict):
        raise UserError(f'{checkpoint} is not a checkpoint (a {type(state)})')
    return state.get('state_dict', state)


class FusionInferencer(BaseInferencer):
    """Fuse infrared-visible pairs with a trained TDFusion model.

    The one inference path: :meth:`read` (load and check a pair),
    :meth:`fuse` (F on the luma, the visible colour restored, see
    :func:`fuse_pair`), :meth:`panel` and :meth:`save`; ``__call__``,
    :func:`fuse_folder`, the tools and the demos go through them.

    Built from a trained model of the model index by name (F only, see
    :mod:`tdfusion_mm.apis.model_index`), or from a config and a
    checkpoint: one of ours (F, G and T), a converted official one or an
    official one as released (F only; both are converted on the fly). When the config has a task network and the
    checkpoint its weights, T runs on the fusion as in ``tools/test.py``
    (the config's test pipeline without its annotation loading) and its
    predictions are returned and drawn.

    Example::

        from tdfusion_mm.apis import FusionInferencer
        inferencer = FusionInferencer('refusion_msrs_learned')
        result = inferencer(dict(ir='ir.png', vis='vis.png'))
        # or a model of your own
        inferencer = FusionInferencer('configs/tdfusion_yolo_m3fd.py',
                                      'epoch_40.pth')
        result = inferencer(dict(ir='ir.png', vis='vis.png'), out_dir='out')
        fused = result['fused'][0]        # (H, W, 3) uint8 BGR

    The fused image has the input's size and the visible image's colour
    (``uint8``; grey if the visible image is grey). Inputs: see
    :func:`list_pairs`; float images need ``float_range``.

    Args:
        model (str | Config): A name of the model index (see
            :func:`model_names`), a config file or a config.
        weights (str, optional): Checkpoint file; none for a name.
        device (str, optional): E.g. ``'cpu'``, ``'cuda:0'``. Defaults to
            the available device.
        scope (str): Default scope. Defaults to ``'tdfusion_mm'``.
        check_memory (bool): Refuse, before fusing, a pair whose estimated
            memory exceeds what the system has available (see
            :func:`check_fusion_memory`). Defaults to True.
    """

    preprocess_kwargs = {'float_range'}
    forward_kwargs = {'predict', 'stretch'}
    visualize_kwargs = {
        'return_vis', 'show', 'wait_time', 'pred_score_thr', 'vis_layout'
    }
    postprocess_kwargs = {'return_datasamples', 'out_dir'}

    def __init__(self,
                 model: Union[str, Config],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: str = 'tdfusion_mm',
                 check_memory: bool = True) -> None:
        if is_model_name(model, weights):
            model, weights = resolve_model(model)
        cfg = self.load_config(model)
        register_all_modules(init_default_scope=False)
        init_default_scope(scope)
        self.check_memory = check_memory
        self.weights = weights
        super().__init__(model=cfg, weights=weights, device=device,
                         scope=scope)
        self.device = next(self.model.parameters()).device

    @staticmethod
    def load_config(model: Union[str, Config]) -> Config:
        """The config of a config file, or the config as given."""
        if not isinstance(model, str):
            return model
        if not osp.isfile(model):
            raise UserError(f'config not found: {model}')
        return Config.fromfile(model)

    @classmethod
    def fusion_only(cls,
                    config: Union[str, Config],
                    weights: str,
                    cfg_options: Optional[dict] = None,
                    **kwargs) -> 'FusionInferencer':
        """An inferencer of F alone (T is not built), e.g. for the tools
        that only fuse. ``cfg_options`` override settings of the config;
        ``kwargs`` go to the constructor."""
        cfg = copy.deepcopy(cls.load_config(config))
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        if 'model' in cfg and 'fusion_backbone' in cfg.model:
            cfg.model = dict(fusion_backbone=cfg.model.fusion_backbone)
        return cls(cfg, weights, **kwargs)

    # ----------------------------------------------------------- building
    def _init_model(self, cfg: Config, weights: str, device: str) -> nn.Module:
        """TDFusion (F, G, T) if the config has a task network and the
        checkpoint its weights, otherwise F alone."""
        if 'model' not in cfg or 'fusion_backbone' not in cfg.model:
            raise UserError('the config has no model.fusion_backbone')
        if not weights:
            raise UserError('a checkpoint is needed (an untrained fusion '
                            'network fuses nothing useful)')
        state = load_fusion_state(weights)
        with_task = 'task_model' in cfg.model and any(
            k.startswith('task_model.') for k in state)
        if with_task:
            model = MODELS.build(copy.deepcopy(cfg.model))
            fusion = model.fusion_backbone
            try:
                check_state_fits(model.state_dict(), state,
                                 f'checkpoint {weights}',
                                 'the model of the config')
            except (KeyError, RuntimeError) as err:
                raise UserError(err.args[0]) from None
            model.load_state_dict(state, strict=True)
        else:
            cfg_f = copy.deepcopy(dict(cfg.model.fusion_backbone))
            cfg_f.setdefault('_scope_', 'tdfusion_mm')
            model = fusion = MODELS.build(cfg_f)
            prefix = 'fusion_backbone.'
            if any(k.startswith(prefix) for k in state):
                state = {k[len(prefix):]: v for k, v in state.items()
                         if k.startswith(prefix)}
            else:  # converted or official: checks keys, folds aliases
                try:
                    state = convert_official_state_dict(state, model=fusion)
                except (KeyError, ValueError, TypeError) as err:
                    raise UserError(f'{weights} holds no weights of this '
                                    f'fusion network: {err.args[0]}') from err
            try:
                check_state_fits(fusion.state_dict(), state,
                                 f'checkpoint {weights}',
                                 'the fusion network of the config')
            except (KeyError, RuntimeError) as err:
                raise UserError(err.args[0]) from None
            fusion.load_state_dict(state, strict=True)
        self.fusion_backbone = fusion.to(device).eval()
        return model.to(device).eval()

    @property
    def has_task(self) -> bool:
        """Whether the model has a task network (with trained weights)."""
        return hasattr(self.model, 'task_model')

    def _init_pipeline(self, cfg: Config) -> Optional[Compose]:
        """The test pipeline after loading, without annotations (T only)."""
        if not self.has_task:
            return None
        pipeline = copy.deepcopy(list(cfg.test_dataloader.dataset.pipeline))
        if not pipeline or _type_name(pipeline[0]) != _LOADER:
            raise UserError(f'the test pipeline must start with {_LOADER}')
        loader = pipeline.pop(0)
        self.vis_color_type = loader.get('vis_color_type', 'color')
        # mmdet's/mmseg's LoadAnnotations and our LoadSegAnnotations.
        return Compose([t for t in pipeline
                        if not _type_name(t).endswith('Annotations')])

    def _init_visualizer(self, cfg: Config):
        """The task library's visualizer, without storage backends."""
        if 'visualizer' not in cfg or not hasattr(self.model, 'task_model'):
            return None
        cfg = copy.deepcopy(cfg)
        cfg.visualizer.vis_backends = None
        cfg.visualizer.pop('save_dir', None)
        visualizer = super()._init_visualizer(cfg)
        visualizer.dataset_meta = self._dataset_meta(cfg)
        return visualizer

    @staticmethod
    def _dataset_meta(cfg: Config) -> dict:
        """Class names and palette of the config's test dataset."""
        try:
            dataset = cfg.test_dataloader.dataset
        except AttributeError:
            return {}
        meta = dict(getattr(DATASETS.get(dataset.type), 'METAINFO', {}))
        meta.update(dataset.get('metainfo') or {})
        return meta

    # ---------------------------------------------------------- inference
    def __call__(self,
                 inputs: Union[PairInput, List[PairInput]],
                 batch_size: int = 1,
                 return_datasamples: bool = False,
                 **kwargs) -> Dict[str, list]:
        """Fuse every pair (and run T on it).

        Args:
            inputs: Pairs, see :func:`list_pairs`.
            batch_size (int): Pairs per call of T. Defaults to 1.
            return_datasamples (bool): Return T's data samples rather than
                plain dicts. Defaults to False.
            **kwargs: ``float_range`` (range of float images),
                ``predict`` (run T, default True), ``stretch`` (min-max
                stretch the fused luma as the official test script does),
                ``return_vis``, ``show``, ``wait_time``, ``pred_score_thr``
                (0.3), ``vis_layout`` (``'panel'`` or ``'fused'``),
                ``out_dir`` (saves ``fused/``, ``vis/`` and
                ``preds/``).

        Returns:
            dict: ``names``, ``fused`` (uint8 images), ``predictions``
            (per pair: detections ``dict(bboxes, labels, scores)`` or
            ``dict(sem_seg)``, or data samples; empty without T) and
            ``visualization`` (RGB IR | visible | fused panels, if asked
            for or shown or saved).
        """
        pre, fwd, vis, post = self._dispatch_kwargs(**kwargs)
        results: Dict[str, list] = dict(names=[], fused=[], predictions=[],
                                        visualization=[])
        for chunk in self.preprocess(list_pairs(inputs), batch_size, **pre):
            preds = self.forward(chunk, **fwd)
            panels = self.visualize(chunk, preds,
                                    return_vis=vis.get('return_vis', False)
                                    or bool(post.get('out_dir')),
                                    **{k: v for k, v in vis.items()
                                       if k != 'return_vis'})
            out = self.postprocess(preds, panels, return_datasamples,
                                   names=[item['name'] for item in chunk],
                                   **post)
            for key in results:
                results[key] += out[key]
        return results

    def read(self, pair: dict, float_range: FloatRange = None) -> dict:
        """One pair of :func:`list_pairs` read and checked (see
        :func:`read_pair`), with its ``name``; refused if its fusion would
        need more memory than is available (``check_memory``)."""
        item = read_pair(pair['ir'], pair['vis'], float_range)
        item['name'] = pair['name']
        if self.check_memory:
            check_fusion_memory(item['ir'].shape[:2],
                                getattr(self.fusion_backbone, 'band_pixels', 0),
                                item['vis_path'] or pair['name'])
        return item

    def preprocess(self, inputs: List[dict], batch_size: int = 1,
                   float_range: FloatRange = None) -> Iterator[List[dict]]:
        """Read and check the pairs; yield them in chunks of
        ``batch_size``, each with T's packed input where T runs."""
        chunk = []
        for pair in inputs:
            item = self.read(pair, float_range)
            if self.pipeline is not None:
                item['data'] = self._pack(item, float_range)
            chunk.append(item)
            if len(chunk) == batch_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _pack(self, item: dict, float_range: FloatRange) -> dict:
        """T's input for a pair, as the dataset's test pipeline gives it."""
        vis = to_uint8_image(item['vis'], float_range, 'visible image')
        if self.vis_color_type == 'color' and vis.ndim == 2:
            vis = np.repeat(vis[..., None], 3, axis=2)
        elif self.vis_color_type == 'grayscale' and vis.ndim == 3:
            vis = luma_array(vis)
        ir = item['ir']
        if ir.dtype.kind == 'f':
            ir = to_uint8_image(ir, float_range, 'infrared image')
        name = item['name']
        return self.pipeline(
            dict(img=vis, ir_img=ir, img_shape=vis.shape[:2],
                 ori_shape=vis.shape[:2], img_id=name,
                 img_path=item['vis_path'] or name,
                 ir_path=item['ir_path'] or name))

    def fuse(self, ir_unit: np.ndarray, vis_unit: np.ndarray,
             stretch: bool = False) -> np.ndarray:
        """Fused image of one pair of [0, 1] arrays (``ir_unit`` and
        ``vis_unit`` of :meth:`read`): (H, W, 3) uint8 BGR, or (H, W) for a
        grey visible image."""
        return fuse_pair(self.fusion_backbone, ir_unit, vis_unit, stretch)

    @staticmethod
    def panel(item: dict, fused: np.ndarray) -> np.ndarray:
        """IR | visible | fused of a pair of :meth:`read`, (H, 3 W, 3) RGB;
        ``fused`` is uint8, BGR or grey."""
        return fusion_panel(item['ir_unit'], item['vis_unit'], fused)

    @torch.no_grad()
    def forward(self, inputs: List[dict], predict: bool = True,
                stretch: bool = False) -> List[dict]:
        """Fused image of every pair; T's data sample where T runs."""
        preds = [dict(fused=self.fuse(item['ir_unit'], item['vis_unit'],
                                      stretch)) for item in inputs]
        if predict and self.pipeline is not None:
            data = self.collate_fn([item['data'] for item in inputs])
            for pred, sample in zip(preds, self.model.test_step(data)):
                pred['sample'] = sample
        return preds

    def visualize(self,
                  inputs: List[dict],
                  preds: List[dict],
                  return_vis: bool = False,
                  show: bool = False,
                  wait_time: float = 0,
                  pred_score_thr: float = 0.3,
                  vis_layout: str = 'panel') -> Optional[List[np.ndarray]]:
        """IR | visible | fused with T's predictions, (H, 3 W, 3) RGB
        (``vis_layout='panel'``), or the fused image with T's predictions
        alone (``'fused'``)."""
        if vis_layout not in ('panel', 'fused'):
            raise UserError(f"vis_layout must be 'panel' or 'fused', got "
                            f'{vis_layout!r}')
        if not (return_vis or show):
            return None
        panels = []
        for item, pred in zip(inputs, preds):
            fused = _to_bgr(pred['fused'])[..., ::-1]
            if 'sample' in pred and self.visualizer is not None:
                extra = dict(pred_score_thr=pred_score_thr) \
                    if 'pred_instances' in pred['sample'] else {}
                self.visualizer.add_datasample(
                    item['name'], np.ascontiguousarray(fused),
                    pred['sample'], draw_gt=False, show=False, **extra)
                fused = self.visualizer.get_image()
            panel = fused if vis_layout == 'fused' else self.panel(
                item, np.ascontiguousarray(fused[..., ::-1]))
            panels.append(np.ascontiguousarray(panel))
            if show:
                import cv2
                cv2.imshow(item['name'], panel[..., ::-1])
                cv2.waitKey(int(wait_time * 1000))
        return panels

    def postprocess(self,
                    preds: List[dict],
                    visualization: Optional[List[np.ndarray]],
                    return_datasamples: bool = False,
                    out_dir: str = '',
                    names: Optional[List[str]] = None) -> Dict[str, list]:
        """Pack (and save under ``out_dir``) the results of a chunk."""
        names = names or [f'{i:06d}' for i in range(len(preds))]
        predictions = []
        for pred in preds:
            if 'sample' in pred:
                predictions.append(pred['sample'] if return_datasamples
                                   else self.pred2dict(pred['sample']))
        out = dict(names=names, fused=[p['fused'] for p in preds],
                   predictions=predictions,
                   visualization=visualization or [])
        if out_dir:
            self.save(out, out_dir)
        return out

    @staticmethod
    def pred2dict(sample: BaseDataElement) -> Dict[str, Any]:
        """T's prediction as plain lists and arrays."""
        if 'pred_instances' in sample:
            inst = sample.pred_instances
            return dict(bboxes=inst.bboxes.cpu().numpy().tolist(),
                        labels=inst.labels.cpu().numpy().tolist(),
                        scores=inst.scores.cpu().numpy().tolist())
        if 'pred_sem_seg' in sample:
            return dict(sem_seg=sample.pred_sem_seg.data[0].cpu().numpy())
        raise UserError(f'unknown prediction type: {sorted(sample.keys())}')

    @staticmethod
    def save(out: Dict[str, list], out_dir: str) -> None:
        """``out_dir/fused/<name>.png``, ``vis/<name>.png`` (panels) and
        ``preds/<name>.json`` (detections) or ``.png`` (label maps)."""
        for i, name in enumerate(out['names']):
            write_image(osp.join(out_dir, 'fused', name + '.png'),
                        out['fused'][i])
            if out['visualization']:
                write_image(osp.join(out_dir, 'vis', name + '.png'),
                            out['visualization'][i][..., ::-1])
            if out['predictions']:
                pred = out['predictions'][i]
                if isinstance(pred, BaseDataElement):
                    continue
                if 'sem_seg' in pred:
                    write_image(osp.join(out_dir, 'preds', name + '.png'),
                                pred['sem_seg'].astype(np.uint8))
                else:
                    write_bytes(osp.join(out_dir, 'preds', name + '.json'),
                                json.dumps(pred).encode())


def _to_bgr(img: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 -> (H, W, 3) uint8 BGR."""
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img
