"""Fusion quality as an mmengine metric, next to the task's metrics."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from tdfusion_mm.registry import METRICS
from tdfusion_mm.utils.colour import luma_array
from ..functional import (METRIC_NAMES, fusion_metrics, metric_conventions,
                          to_uint8)

__all__ = ['FusionMetric', 'source_luma8']


def source_luma8(img: torch.Tensor) -> np.ndarray:
    """8-bit luma of a packed source image.

    Args:
        img (Tensor): (1, H, W) grey or (3, H, W) BGR image, ``uint8``,
            ``uint16`` or float in [0, 1], as the packing transforms give.

    Returns:
        np.ndarray: (H, W) ``uint8`` luma (OpenCV's Y of a BGR image).
    """
    array = img.detach().cpu().numpy().transpose(1, 2, 0)
    return to_uint8(luma_array(array))


@METRICS.register_module()
class FusionMetric(BaseMetric):
    """Fusion-quality metrics of the fused images of a TDFusion model.

    Works beside mmdet's or mmseg's metrics in one ``val_evaluator`` /
    ``test_evaluator`` list::

        test_evaluator = [dict(type='mmdet.CocoMetric', ...),
                          dict(type='tdfusion_mm.FusionMetric')]

    ``TDFusion.predict`` adds the fused luma to each data sample as
    ``pred_fusion.luma``; the infrared and visible sources are taken from
    the data batch (``data_batch['inputs']['ir' / 'vis']``, the images as
    the test pipeline packs them, before any batch padding). All three are
    brought to 8-bit luma (fused: ``round(255 * x)``; visible: OpenCV's Y of
    the BGR image) and scored with
    :func:`tdfusion_mm.evaluation.functional.fusion_metrics`; the metric of
    the dataset is the mean over its images. Definitions:
    ``docs/fusion_metrics.md``.

    Args:
        metrics (Sequence[str], optional): Names among ``EN, SD, SF, AG, MI,
            SCD, VIF, Qabf, SSIM, PSNR``. Defaults to all of them.
        preset (str): The conventions of a published evaluator:
            ``'tdfusion'`` (the official TDFusion evaluator: VIF and SSIM
            means over the sources, 7x7 uniform SSIM window, MI in bits),
            ``'cddfuse'`` (sums over the sources, MI in nats, PSNR peak
            max(F)) or ``'matlab'`` (AG with forward differences, 11x11
            Gaussian SSIM window). Defaults to ``'tdfusion'``.
        reduce (str, optional): How VIF and SSIM combine the values of the
            two sources, ``'mean'`` or ``'sum'``. None: the preset's.
        ssim_window (str, optional): ``'gaussian'`` (11x11, sigma 1.5, Wang
            et al.) or ``'uniform'`` (7x7, scikit-image's default). None:
            the preset's.
        mi_unit, ag_difference, psnr_peak (str, optional): The other
            conventions (see ``docs/fusion_metrics.md``). None: the
            preset's.
        collect_device (str): Device used to collect results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            ``'fusion'`` (keys such as ``fusion/EN``).
    """

    default_prefix: Optional[str] = 'fusion'

    def __init__(self,
                 metrics: Optional[Sequence[str]] = None,
                 preset: str = 'tdfusion',
                 reduce: Optional[str] = None,
                 ssim_window: Optional[str] = None,
                 mi_unit: Optional[str] = None,
                 ag_difference: Optional[str] = None,
                 psnr_peak: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.metrics = tuple(METRIC_NAMES if metrics is None else metrics)
        unknown = [m for m in self.metrics if m not in METRIC_NAMES]
        if unknown:
            raise KeyError(f'FusionMetric: unknown metrics {unknown}; '
                           f'available: {list(METRIC_NAMES)}')
        try:
            self.conventions = metric_conventions(
                preset, reduce=reduce, ssim_window=ssim_window,
                mi_unit=mi_unit, ag_difference=ag_difference,
                psnr_peak=psnr_peak)
        except (KeyError, ValueError) as e:
            raise type(e)(f'FusionMetric: {e}') from e

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Score the fused image of every sample of a batch.

        Args:
            data_batch (dict): The batch from the dataloader, with
                ``inputs = dict(ir=[...], vis=[...])``.
            data_samples (Sequence[dict]): The model's outputs as dicts,
                each with ``pred_fusion['luma']``.
        """
        inputs = data_batch.get('inputs') if isinstance(data_batch,
                                                        dict) else None
        if not isinstance(inputs, dict) or not {'ir', 'vis'} <= set(inputs):
            raise KeyError(
                'FusionMetric needs the sources in data_batch["inputs"]'
                '["ir"/"vis"] (as PackFusionDetInputs packs them)')
        for ir, vis, sample in zip(inputs['ir'], inputs['vis'],
                                   data_samples):
            if 'pred_fusion' not in sample:
                raise KeyError(
                    'FusionMetric: a data sample has no `pred_fusion`; '
                    'the model must be TDFusion (its predict adds the fused '
                    f'luma); sample keys: {sorted(sample)}')
            fused = sample['pred_fusion']['luma'].detach().cpu().numpy()[0]
            ir8, vis8 = source_luma8(ir), source_luma8(vis)
            if fused.shape != ir8.shape or ir8.shape != vis8.shape:
                raise ValueError(
                    f"FusionMetric: {sample.get('img_path')}: fused "
                    f'{fused.shape}, ir {ir8.shape} and vis {vis8.shape} '
                    'differ in size')
            self.results.append(
                fusion_metrics(to_uint8(fused), ir8, vis8, self.metrics,
                               **self.conventions))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Mean of every metric over the dataset's images."""
        return {
            name: float(np.mean([r[name] for r in results]))
            for name in self.metrics
        }
