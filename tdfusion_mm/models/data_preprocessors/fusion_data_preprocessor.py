"""Batch infrared-visible pairs for the fusion and task networks."""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import PixelData

from tdfusion_mm.registry import MODELS
from tdfusion_mm.utils.image_dtype import UNIT_SCALES

# uint8 / 255, uint16 / 65535, as for arrays
_SCALES = {getattr(torch, dtype.name): scale
           for dtype, scale in UNIT_SCALES.items()}


@MODELS.register_module()
class FusionDataPreprocessor(BaseDataPreprocessor):
    """Convert, pad and stack the images packed by ``PackFusionDetInputs``.

    Input (as ``pseudo_collate`` gives it)::

        inputs = dict(ir=[Tensor(1, H_i, W_i), ...],
                      vis=[Tensor(3 or 1, H_i, W_i), ...],
                      ir_crop=[Tensor(1, h, w), ...],     # optional
                      vis_crop=[Tensor(3 or 1, h, w), ...])  # optional

    A stacked (B, C, H, W) tensor is accepted in place of a list. Output::

        inputs = dict(ir=Tensor(B, 1, H, W), vis=Tensor(B, C, H, W),
                      ir_crop=Tensor(B, 1, h', w'),
                      vis_crop=Tensor(B, C, h', w'))

    Every image becomes ``float32`` in [0, 1] (``uint8`` / 255, ``uint16`` /
    65535; float inputs must already be in [0, 1]); the visible image
    keeps its channel order (BGR) and no mean/std is applied. The infrared
    and visible images are padded with zeros at the bottom/right to the
    largest size of the batch rounded up to ``pad_size_divisor``; the crops
    likewise, among themselves.

    Data samples get ``batch_input_shape`` and ``pad_shape`` as mmdet's
    ``DetDataPreprocessor`` sets them, so that mmdet heads work, and
    ``padding_size`` (left, right, top, bottom) as mmseg's ``stack_batch``
    sets it: the zeros added to the sample to reach the batch shape, which
    mmseg segmentors cut off their predictions before resizing them to
    ``ori_shape``. mmseg also resizes the logits of the whole batch to the
    ``pad_shape`` of its first sample, so (as with mmseg's own
    preprocessor) the images of a segmentation test batch must have one
    size. The samples are duck-typed: instance boxes and
    ``gt_sem_seg`` are handled where present, so an mmseg ``SegDataSample``
    passes as well.

    Args:
        pad_size_divisor (int): The padded height and width are multiples
            of it. Defaults to 1.
        pad_seg (bool): Pad every field of ``gt_sem_seg`` to the batch shape
            in training (needed to stack mmseg labels). Defaults to False.
        seg_pad_value (int): Padding value of ``gt_sem_seg``. Defaults to
            255.
        boxtype2tensor (bool): Replace mmdet box objects (``BaseBoxes``) in
            ``gt_instances``, ``ignored_instances`` and ``pred_instances`` by
            their tensors, as ``DetDataPreprocessor`` does. Defaults to True.
        batch_augments (list[dict], optional): Batch augmentations applied in
            training, e.g. ``dict(type='mmdet.BatchSyncRandomResize', ...)``
            or ``dict(type='mmdet.BatchFixedSizePad', ...)``. The infrared
            and visible batches are concatenated along channels, augmented
            once (so labels are updated once) and split again; the crops are
            not augmented. Defaults to None.
        non_blocking (bool): Copy to the device without blocking. Defaults
            to False.
    """

    IMAGE_KEYS = ('ir', 'vis')
    CROP_KEYS = ('ir_crop', 'vis_crop')

    def __init__(self,
                 pad_size_divisor: int = 1,
                 pad_seg: bool = False,
                 seg_pad_value: int = 255,
                 boxtype2tensor: bool = True,
                 batch_augments: Optional[List[dict]] = None,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if pad_size_divisor < 1:
            raise ValueError(
                f'pad_size_divisor must be >= 1, got {pad_size_divisor}')
        self.pad_size_divisor = pad_size_divisor
        self.pad_seg = pad_seg
        self.seg_pad_value = seg_pad_value
        self.boxtype2tensor = boxtype2tensor
        self.batch_augments = nn.ModuleList(
            [MODELS.build(aug) for aug in batch_augments]
        ) if batch_augments else None

    def forward(self, data: dict, training: bool = False) -> dict:
        """Move to the device, convert, pad, stack and augment.

        Args:
            data (dict): ``inputs`` (the dict above) and optionally
                ``data_samples`` from the dataloader.
            training (bool): Whether to pad labels and run the batch
                augmentations. Defaults to False.

        Returns:
            dict: ``inputs`` (the stacked dict above) and ``data_samples``.
        """
        data = self.cast_data(data)
        inputs = data['inputs']
        data_samples = data.get('data_samples')
        unknown = set(inputs) - set(self.IMAGE_KEYS + self.CROP_KEYS)
        missing = set(self.IMAGE_KEYS) - set(inputs)
        if unknown or missing:
            raise KeyError(
                f'inputs must hold {self.IMAGE_KEYS} and optionally '
                f'{self.CROP_KEYS}; got {sorted(inputs)}')
        batch = {key: self._to_float(key, value)
                 for key, value in inputs.items()}
        self._check_sizes(batch, data_samples)

        image_shapes = [tuple(img.shape[-2:]) for img in batch['ir']]
        out = self._pad_stack(batch, self.IMAGE_KEYS)
        if any(key in batch for key in self.CROP_KEYS):
            out.update(self._pad_stack(batch, self.CROP_KEYS))

        if data_samples is not None:
            batch_input_shape = tuple(out['ir'].shape[-2:])
            for sample, (height, width) in zip(data_samples, image_shapes):
                sample.set_metainfo({
                    'batch_input_shape': batch_input_shape,
                    'pad_shape': self._round_up((height, width)),
                    'padding_size': (0, batch_input_shape[1] - width, 0,
                                     batch_input_shape[0] - height)
                })
            if self.boxtype2tensor:
                self._boxes_to_tensor(data_samples)
            if training and self.pad_seg:
                self._pad_sem_seg(data_samples)

        if training and self.batch_augments is not None:
            num_ir = out['ir'].shape[1]
            joint = torch.cat([out['ir'], out['vis']], dim=1)
            for aug in self.batch_augments:
                joint, data_samples = aug(joint, data_samples)
            out['ir'], out['vis'] = joint[:, :num_ir], joint[:, num_ir:]
        return dict(inputs=out, data_samples=data_samples)

    @staticmethod
    def _to_float(key: str, images: Union[torch.Tensor, Sequence[torch.Tensor]]
                  ) -> List[torch.Tensor]:
        """Convert every (C, H, W) image of one key to float in [0, 1]."""
        result = []
        for img in images:
            if img.dim() != 3:
                raise ValueError(f'inputs[{key!r}] must hold (C, H, W) '
                                 f'images, got shape {tuple(img.shape)}')
            if img.dtype in _SCALES:
                result.append(img.float() / _SCALES[img.dtype])
            elif img.is_floating_point():
                if img.numel() and (img.min() < 0 or img.max() > 1):
                    raise ValueError(
                        f'inputs[{key!r}] is a float image outside [0, 1] '
                        f'(range {img.min().item():g} to {img.max().item():g})'
                        '; a 0-255 float image (e.g. after mmdet '
                        'PhotoMetricDistortion) must be packed by '
                        'PackFusionDetInputs, which makes it uint8')
                result.append(img.float())
            else:
                raise TypeError(
                    f'inputs[{key!r}] has dtype {img.dtype}; expected uint8, '
                    'uint16 or a float type in [0, 1]')
        return result

    @staticmethod
    def _check_sizes(batch: dict, data_samples: Optional[list]) -> None:
        """Both modalities of a sample must have one size (so must crops)."""
        for ir_key, vis_key in (('ir', 'vis'), ('ir_crop', 'vis_crop')):
            if ir_key not in batch and vis_key not in batch:
                continue
            irs, viss = batch.get(ir_key, []), batch.get(vis_key, [])
            if len(irs) != len(viss):
                raise ValueError(f'inputs[{ir_key!r}] has {len(irs)} images '
                                 f'but inputs[{vis_key!r}] has {len(viss)}')
            for i, (ir, vis) in enumerate(zip(irs, viss)):
                if ir.shape[-2:] != vis.shape[-2:]:
                    path = data_samples[i].get('img_path') \
                        if data_samples is not None else None
                    raise ValueError(
                        f'Sample {i} ({path}): inputs[{ir_key!r}] is '
                        f'{tuple(ir.shape[-2:])} but inputs[{vis_key!r}] is '
                        f'{tuple(vis.shape[-2:])}')

    def _round_up(self, size: Sequence[int]) -> Tuple[int, int]:
        """Round (h, w) up to multiples of ``pad_size_divisor``."""
        d = self.pad_size_divisor
        return tuple(int(math.ceil(s / d)) * d for s in size)

    def _pad_stack(self, batch: dict, keys: Tuple[str, str]) -> dict:
        """Pad the images of ``keys`` to one shape with zeros and stack."""
        images = batch[keys[0]] + batch[keys[1]]
        height, width = self._round_up(
            (max(img.shape[-2] for img in images),
             max(img.shape[-1] for img in images)))
        return {
            key: torch.stack([
                F.pad(img, (0, width - img.shape[-1], 0,
                            height - img.shape[-2])) for img in batch[key]
            ])
            for key in keys
        }

    @staticmethod
    def _boxes_to_tensor(data_samples: list) -> None:
        """Replace ``BaseBoxes`` by their tensors, in place.

        mmdet is imported only when there are boxes that are not tensors
        (only mmdet makes box objects), so that segmentation batches and the
        rest of the models need no mmdet.
        """
        for sample in data_samples:
            for key in ('gt_instances', 'ignored_instances', 'pred_instances'):
                instances = sample.get(key)
                bboxes = None if instances is None else instances.get('bboxes')
                if bboxes is None or torch.is_tensor(bboxes):
                    continue
                from mmdet.structures.bbox import BaseBoxes
                if isinstance(bboxes, BaseBoxes):
                    instances.bboxes = bboxes.tensor

    def _pad_sem_seg(self, data_samples: list) -> None:
        """Pad every field of ``gt_sem_seg`` to ``batch_input_shape``."""
        for sample in data_samples:
            if 'gt_sem_seg' not in sample:
                continue
            height, width = sample.batch_input_shape
            seg = sample.gt_sem_seg
            sample.gt_sem_seg = PixelData(
                metainfo=seg.metainfo,
                **{
                    key: F.pad(
                        value, (0, width - value.shape[-1], 0,
                                height - value.shape[-2]),
                        value=self.seg_pad_value)
                    for key, value in seg.items()
                })
