"""Pack an infrared-visible pair and its detection or segmentation
annotations."""
import numpy as np
import torch
from mmcv.transforms import to_tensor
from mmdet.datasets.transforms import PackDetInputs
from mmseg.datasets.transforms import PackSegInputs

from tdfusion_mm.registry import TRANSFORMS


def _float_to_uint8(img: np.ndarray) -> np.ndarray:
    """Round and clip a float image in the 0-255 range to ``uint8``; return
    other images as they are."""
    if img.dtype.kind != 'f':
        return img
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _to_chw_tensor(img: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) array -> contiguous (C, H, W) tensor, same
    dtype."""
    if img.ndim == 2:
        img = img[..., None]
    return to_tensor(np.ascontiguousarray(img.transpose(2, 0, 1)))


def _fusion_inputs(results: dict, vis: torch.Tensor) -> dict:
    """The ``inputs`` dict: the packed visible image, the infrared image
    and the fusion crops where present."""
    inputs = dict(ir=_to_chw_tensor(results['ir_img']), vis=vis)
    for key in ('ir_crop', 'vis_crop'):
        if key in results:
            inputs[key] = _to_chw_tensor(_float_to_uint8(results[key]))
    return inputs


class _PackFusionInputs:
    """Mixin before mmdet's/mmseg's packer: the packer builds the data
    sample and packs the visible image; this adds the infrared image and
    the fusion crops into the ``inputs`` dict."""

    def transform(self, results: dict) -> dict:
        """Pack the results.

        Args:
            results (dict): Result dict from the pipeline.

        Returns:
            dict: ``inputs`` (the dict of :class:`PackFusionDetInputs`) and
            ``data_samples``.
        """
        results = dict(results, img=_float_to_uint8(results['img']))
        packed = super().transform(results)
        packed['inputs'] = _fusion_inputs(results, packed['inputs'])
        return packed


@TRANSFORMS.register_module()
class PackFusionDetInputs(_PackFusionInputs, PackDetInputs):
    """Pack both images into ``inputs`` and the annotations into a
    :class:`mmdet.structures.DetDataSample`, as mmdet's ``PackDetInputs``
    does.

    The data sample is exactly the one ``PackDetInputs`` builds (same
    instances and meta keys, plus ``ir_path``); ``inputs`` becomes a dict of
    tensors that keep the images' integer dtype (``uint8``, or ``uint16``
    for 16-bit infrared)::

        inputs = dict(
            ir=Tensor(1, H, W),
            vis=Tensor(3, H, W) BGR or Tensor(1, H, W) grey,
            ir_crop=Tensor(1, h, w),      # if ``ir_crop`` is present
            vis_crop=Tensor(3 or 1, h, w))  # if ``vis_crop`` is present

    A float visible image or crop (mmdet's ``PhotoMetricDistortion`` returns
    ``float32`` in the 0-255 range, unclipped) is rounded and clipped to
    ``uint8``, so that :class:`FusionDataPreprocessor` scales it by 1/255.

    Required Keys:

    - img
    - ir_img
    - the keys ``PackDetInputs`` packs (``gt_bboxes``, ``gt_bboxes_labels``,
      ``gt_ignore_flags``, ...) and meta keys, where present

    Optional Keys:

    - ir_crop
    - vis_crop

    Args:
        meta_keys (Sequence[str]): Meta keys copied into the data sample
            where present. Defaults to mmdet's keys plus ``'ir_path'``.
    """

    def __init__(self,
                 meta_keys=('img_id', 'img_path', 'ir_path', 'ori_shape',
                            'img_shape', 'scale_factor', 'flip',
                            'flip_direction')) -> None:
        super().__init__(meta_keys=meta_keys)


@TRANSFORMS.register_module()
class PackFusionSegInputs(_PackFusionInputs, PackSegInputs):
    """Pack both images into ``inputs`` and the label map into a
    :class:`mmseg.structures.SegDataSample`, as mmseg's ``PackSegInputs``
    does.

    The data sample is exactly the one ``PackSegInputs`` builds
    (``gt_sem_seg`` and the same meta keys, plus ``ir_path``); ``inputs`` is
    the dict of :class:`PackFusionDetInputs`, with the same dtype rules (a
    float visible image or crop is rounded and clipped to ``uint8``).

    Required and optional keys are those of :class:`PackFusionDetInputs`,
    with the keys ``PackSegInputs`` packs (``gt_seg_map``, ...) in place of
    mmdet's.

    Args:
        meta_keys (Sequence[str]): Meta keys copied into the data sample
            where present. Defaults to mmseg's keys plus ``'ir_path'``.
    """

    def __init__(self,
                 meta_keys=('img_path', 'ir_path', 'seg_map_path',
                            'ori_shape', 'img_shape', 'pad_shape',
                            'scale_factor', 'flip', 'flip_direction',
                            'reduce_zero_label')) -> None:
        super().__init__(meta_keys=meta_keys)
