"""Random crop of the same place of both images, for the fusion loss."""
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from tdfusion_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomFusionCrop(BaseTransform):
    """Store a random crop of the same place of the infrared and visible
    images in ``ir_crop`` / ``vis_crop``.

    TDFusion trains the fusion network on crops at the native resolution
    while the task network sees the whole pair resized to the task
    resolution, so put this transform right after loading, before any
    resize; ``img`` and ``ir_img`` are not changed. A side shorter than the
    crop is padded with zeros at the bottom/right so that the crops of a
    batch always have the same size and stack.

    Required Keys:

    - img
    - ir_img

    Added Keys:

    - ir_crop (np.ndarray): (h, w), dtype of ``ir_img``.
    - vis_crop (np.ndarray): (h, w, C) or (h, w), dtype of ``img``.

    Args:
        crop_size (int | Sequence[int]): Crop (height, width); an int gives a
            square. Defaults to (256, 256).
    """

    def __init__(self,
                 crop_size: Union[int, Sequence[int]] = (256, 256)) -> None:
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        crop_size = tuple(crop_size)
        if len(crop_size) != 2 or not all(
                isinstance(s, int) and s > 0 for s in crop_size):
            raise ValueError('crop_size must be a positive int or a pair of '
                             f'positive ints (height, width), got {crop_size}')
        self.crop_size = crop_size

    @cache_randomness
    def _rand_offset(self, img_h: int, img_w: int) -> Tuple[int, int]:
        """Random (top, left) of a crop inside an image of this size."""
        top = np.random.randint(0, max(img_h - self.crop_size[0], 0) + 1)
        left = np.random.randint(0, max(img_w - self.crop_size[1], 0) + 1)
        return top, left

    def _crop(self, img: np.ndarray, top: int, left: int) -> np.ndarray:
        """Crop one image, padding it with zeros up to the crop size."""
        crop_h, crop_w = self.crop_size
        patch = img[top:top + crop_h, left:left + crop_w]
        out = np.zeros((crop_h, crop_w) + img.shape[2:], dtype=img.dtype)
        out[:patch.shape[0], :patch.shape[1]] = patch
        return out

    def transform(self, results: dict) -> dict:
        """Add the crops.

        Args:
            results (dict): Result dict with ``img`` and ``ir_img``.

        Returns:
            dict: The result dict with ``ir_crop`` and ``vis_crop``.
        """
        vis = results['img']
        ir = results['ir_img']
        ir = ir.reshape(ir.shape[:2])
        if ir.shape != vis.shape[:2]:
            raise ValueError(
                f'RandomFusionCrop needs images of one size; the infrared '
                f'image {results.get("ir_path")} is {ir.shape} and the '
                f'visible image {results.get("img_path")} is '
                f'{vis.shape[:2]}')
        top, left = self._rand_offset(*vis.shape[:2])
        results['ir_crop'] = self._crop(ir, top, left)
        results['vis_crop'] = self._crop(vis, top, left)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'
