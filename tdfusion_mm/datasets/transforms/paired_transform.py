"""Apply geometric transforms identically to the visible and infrared
images."""
from typing import Callable, List, Optional, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_random_params

from tdfusion_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PairedTransform(BaseTransform):
    """Run geometric transforms on the visible image with its annotations,
    then replay them, with the same random parameters, on the infrared
    image alone.

    Each wrapped transform is called twice inside
    :func:`mmcv.transforms.utils.cache_random_params`: first on the results
    dict (``img`` = visible image, boxes, masks, maps), then on a separate
    dict that holds only the infrared image and the image meta data. The
    annotations are therefore transformed exactly once (mmdet's box
    transforms work in place, so sharing them between two passes would
    transform them twice). For the replay the infrared image is repeated to
    the channel count of the visible image, so padding values given per
    channel fit both; channel 0 is kept afterwards, in the original bit
    depth.

    After each wrapped transform the two images must have the same size and,
    where mmdet records it, the same ``homography_matrix``; otherwise an
    error names the transform. This holds for transforms whose randomness
    lives in methods decorated with ``cache_randomness`` and does not depend
    on the annotations: mmdet ``Resize``, ``RandomResize``,
    ``RandomChoiceResize``, ``FixShapeResize``, ``RandomFlip``,
    ``RandomCrop``, ``Pad``. Not supported: transforms that search for a
    crop using the boxes (``MinIoURandomCrop``) or mix samples
    (``Mosaic``, ``MixUp``).

    Photometric transforms (mmdet ``PhotoMetricDistortion``, ...) must *not*
    be wrapped: put them in the pipeline directly, where they change only
    ``img`` (the visible image) and leave ``ir_img`` as it is.
    ``PhotoMetricDistortion`` needs a 3-channel BGR visible image (it
    converts BGR to HSV).

    Scope trap: an unscoped ``'Resize'`` resolves in the current default
    scope and, under the ``tdfusion_mm`` scope, falls back to mmcv's
    ``Resize``, which does not understand mmdet's box types. With
    ``default_scope='mmdet'`` unscoped names are right. Otherwise give each
    wrapped config ``_scope_='mmdet'`` rather than a ``'mmdet.'`` prefix:
    ``RandomResize`` and ``RandomChoiceResize`` are mmcv classes that build
    their inner ``Resize`` in the default scope, and mmengine does not find
    ``'mmdet.RandomResize'`` from the mmdet scope (it searches the parent
    registries only for unscoped names).

    Alignment check limit: a transform that neither changes the image size
    nor records ``homography_matrix`` is not checked.

    Required Keys:

    - img
    - ir_img
    - img_shape
    - keys required by the wrapped transforms

    Modified Keys:

    - img
    - ir_img
    - keys modified by the wrapped transforms

    Added Keys:

    - keys added by the wrapped transforms

    Args:
        transforms (list[dict | callable]): The geometric transforms, as
            configs or objects.

    Examples:
        >>> dict(type='tdfusion_mm.PairedTransform', transforms=[
        ...     dict(type='mmdet.Resize', scale=(256, 192), keep_ratio=True),
        ...     dict(type='mmdet.RandomFlip', prob=0.5),
        ...     dict(type='mmdet.Pad', size=(256, 192)),
        ... ])
        >>> # under another default scope
        >>> dict(type='tdfusion_mm.PairedTransform', transforms=[
        ...     dict(type='RandomResize', _scope_='mmdet',
        ...          scale=[(256, 192), (320, 240)], keep_ratio=True),
        ... ])
    """

    def __init__(self, transforms: List[Union[dict, Callable]]) -> None:
        self.transforms = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ]

    def transform(self, results: dict) -> Optional[dict]:
        """Transform both images; the annotations once.

        Args:
            results (dict): Result dict with the visible image in ``img`` and
                the infrared image in ``ir_img``.

        Returns:
            dict | None: The transformed results, or None if a wrapped
            transform dropped the sample (e.g. a crop without objects).
        """
        vis_channels = results['img'].shape[2:]
        ir = results['ir_img'].reshape(results['ir_img'].shape[:2])
        if vis_channels:
            ir = np.repeat(ir[..., None], vis_channels[0], axis=2)
        ir_results = dict(
            img=ir,
            img_shape=results['img_shape'],
            ori_shape=results.get('ori_shape', results['img_shape']),
            img_path=results.get('ir_path'))
        if results.get('homography_matrix') is not None:
            ir_results['homography_matrix'] = \
                results['homography_matrix'].copy()

        for t in self.transforms:
            with cache_random_params(t):
                results = t(results)
                if results is None:
                    return None
                ir_results = t(ir_results)
            self._check_aligned(t, results, ir_results)

        ir = ir_results['img']
        results['ir_img'] = ir if ir.ndim == 2 else ir[..., 0].copy()
        return results

    @staticmethod
    def _check_aligned(t: Callable, results: dict,
                       ir_results: Optional[dict]) -> None:
        """Raise an error if ``t`` treated the two images differently."""
        reason = None
        if ir_results is None:
            reason = 'dropped the infrared image'
        elif results['img'].shape[:2] != ir_results['img'].shape[:2]:
            reason = (f'gave the visible image size '
                      f'{results["img"].shape[:2]} and the infrared image '
                      f'size {ir_results["img"].shape[:2]}')
        else:
            vis_h = results.get('homography_matrix')
            ir_h = ir_results.get('homography_matrix')
            if (vis_h is None) != (ir_h is None) or (
                    vis_h is not None and not np.allclose(vis_h, ir_h)):
                reason = ('gave the visible and infrared images different '
                          'homography matrices')
        if reason is not None:
            raise RuntimeError(
                f'{t!r} {reason}: its randomness is not replayable (it must '
                'live in methods decorated with cache_randomness and not '
                'depend on the annotations), so it cannot be used in '
                'PairedTransform')

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transforms={self.transforms})'
