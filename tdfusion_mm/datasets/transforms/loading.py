"""Load an aligned infrared-visible pair, and checked label maps."""
from typing import Optional

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get
from mmseg.datasets.transforms import LoadAnnotations as MMSegLoadAnnotations

from tdfusion_mm.registry import TRANSFORMS
from tdfusion_mm.utils.user_errors import InvalidInputFileError

_JPEG_START = b'\xff\xd8'
_JPEG_END = b'\xff\xd9'
_PNG_START = b'\x89PNG\r\n\x1a\n'
_PNG_END = b'IEND\xaeB`\x82'


def check_complete(content: bytes, path: str, kind: str) -> None:
    """Raise an error naming ``path`` if a JPEG or PNG lacks its end marker
    (decoders fill a truncated image with grey and only warn)."""
    if (content.startswith(_JPEG_START)
            and not content.rstrip(b'\0').endswith(_JPEG_END)) or (
                content.startswith(_PNG_START)
                and not content.rstrip(b'\0').endswith(_PNG_END)):
        raise OSError(f'The {kind} file is truncated: {path}')


@TRANSFORMS.register_module()
class LoadIrVisFromFile(BaseTransform):
    """Load the visible image into ``img`` and the infrared one into
    ``ir_img``.

    The visible image is what mmdet/mmseg transforms call "the image": it is
    loaded as BGR ``uint8`` (H, W, 3), or grey (H, W) with
    ``vis_color_type='grayscale'``. The infrared image keeps its bit depth
    (``uint8`` or ``uint16``) and is reduced to one channel (H, W): a 3- or
    4-channel file (IR stored as R=G=B, with or without alpha) is converted
    to grey, which returns the common channel exactly when R=G=B.

    Errors name the file: a file that cannot be decoded, a truncated JPEG or
    PNG (no end marker), and an infrared image whose size differs from the
    visible one (unless ``resize_ir_to_vis=True``).

    Required Keys:

    - img_path (the visible image)
    - ir_path

    Added Keys:

    - img
    - ir_img
    - img_shape
    - ori_shape

    Args:
        vis_color_type (str): ``'color'`` (BGR) or ``'grayscale'``.
            Defaults to ``'color'``.
        resize_ir_to_vis (bool): Resize (bilinear) an infrared image whose
            size differs from the visible one instead of raising an error.
            Defaults to False.
        backend_args (dict, optional): File backend arguments of
            :func:`mmengine.fileio.get`. Defaults to None.
    """

    def __init__(self,
                 vis_color_type: str = 'color',
                 resize_ir_to_vis: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        if vis_color_type not in ('color', 'grayscale'):
            raise ValueError('vis_color_type must be "color" or "grayscale", '
                             f'got {vis_color_type!r}')
        self.vis_color_type = vis_color_type
        self.resize_ir_to_vis = resize_ir_to_vis
        self.backend_args = backend_args

    def _read(self, path: str, flag: str, kind: str) -> np.ndarray:
        """Decode one image file; raise an error naming it if unreadable."""
        content = get(path, backend_args=self.backend_args)
        check_complete(content, path, f'{kind} image')
        try:
            img = mmcv.imfrombytes(content, flag=flag, backend='cv2')
        except cv2.error as e:
            raise OSError(f'Cannot decode the {kind} image file {path}: '
                          f'{e}') from e
        if img is None or img.size == 0:
            raise OSError(f'Cannot decode the {kind} image file {path}: '
                          'unreadable or not an image')
        return img

    def transform(self, results: dict) -> dict:
        """Load both images.

        Args:
            results (dict): Result dict with ``img_path`` and ``ir_path``.

        Returns:
            dict: The result dict with the added keys.
        """
        vis_path, ir_path = results['img_path'], results['ir_path']
        vis = self._read(vis_path, self.vis_color_type, 'visible')
        ir = self._read(ir_path, 'unchanged', 'infrared')
        if ir.ndim == 3:
            if ir.shape[2] >= 3:
                ir = mmcv.bgr2gray(ir[..., :3])
            else:
                ir = ir[..., 0]
        if ir.shape[:2] != vis.shape[:2]:
            if not self.resize_ir_to_vis:
                raise ValueError(
                    f'The infrared image {ir_path} is {ir.shape[0]}x'
                    f'{ir.shape[1]} (HxW) but the visible image {vis_path} '
                    f'is {vis.shape[0]}x{vis.shape[1]}; pass '
                    'resize_ir_to_vis=True to resize the infrared image')
            ir = mmcv.imresize(ir, (vis.shape[1], vis.shape[0]))
        results['img'] = vis
        results['ir_img'] = ir
        results['img_shape'] = vis.shape[:2]
        results['ori_shape'] = vis.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'vis_color_type={self.vis_color_type!r}, '
                f'resize_ir_to_vis={self.resize_ir_to_vis}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class LoadSegAnnotations(MMSegLoadAnnotations):
    """mmseg's ``LoadAnnotations`` that refuses label values outside the
    classes.

    After loading (and ``label_map``/``reduce_zero_label``), every value of
    ``gt_seg_map`` must be a class (0 to ``num_classes - 1``) or the ignore
    index; otherwise an error names the label file and the values. Without
    the check such a value fails only when its sample is drawn, inside the
    loss (``Target 50 is out of bounds``), without a file name.

    Required Keys (besides those of mmseg's ``LoadAnnotations``):

    - num_classes, ignore_index (our segmentation datasets add them), unless
      given as arguments.

    Args:
        num_classes (int, optional): Number of classes. Defaults to the
            data info's ``num_classes``.
        ignore_index (int, optional): The label value that is ignored.
            Defaults to the data info's ``ignore_index``.
        **kwargs: Arguments of mmseg's ``LoadAnnotations``.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        content = get(path, backend_args=self.backend_args)
        check_complete(content, path, 'label map')
        check_label_depth(content, path, self.imdecode_backend)
        super()._load_seg_map(results)
        num_classes = self.num_classes if self.num_classes is not None \
            else results.get('num_classes')
        ignore_index = self.ignore_index if self.ignore_index is not None \
            else results.get('ignore_index')
        if num_classes is None or ignore_index is None:
            raise KeyError(
                'LoadSegAnnotations needs num_classes and ignore_index, as '
                'arguments or in the data info (our segmentation datasets '
                'add them)')
        check_label_values(results['gt_seg_map'], num_classes, ignore_index,
                           results['seg_map_path'])


def check_label_depth(content: bytes, path: str, backend: str) -> None:
    """Raise an error naming ``path`` if the label file holds values above
    255: mmseg casts label maps to ``uint8``, so 256 would become 0.

    8-bit PNG and JPEG files are passed without decoding (the PNG bit depth
    is byte 24 of the file).
    """
    if content.startswith(_JPEG_START) or (
            content.startswith(_PNG_START) and len(content) > 24
            and content[24] <= 8):
        return
    label = mmcv.imfrombytes(content, flag='unchanged', backend=backend)
    if label is not None and label.dtype != np.uint8 and (
            label.max() > 255 or label.min() < 0):
        wide = np.unique(label[(label > 255) | (label < 0)])
        raise InvalidInputFileError(
            f'The label map {path} ({label.dtype}) holds value(s) '
            f'{wide[:10].tolist()} outside 0-255: mmseg reads label maps '
            'as 8-bit, where they would wrap around')


def check_label_values(label: np.ndarray, num_classes: int,
                       ignore_index: int, path: str) -> None:
    """Raise an error naming ``path`` if ``label`` holds a value that is
    neither a class nor ``ignore_index``."""
    bad = (label >= num_classes) | (label < 0)
    bad &= label != ignore_index
    if bad.any():
        values = np.unique(label[bad])
        raise InvalidInputFileError(
            f'The label map {path} holds value(s) {values[:10].tolist()} '
            f'({int(bad.sum())} pixels) outside the {num_classes} classes '
            f'(0-{num_classes - 1}) and the ignore index {ignore_index}')
