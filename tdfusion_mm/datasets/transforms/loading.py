"""Load an aligned infrared-visible pair, and checked label maps and
boxes."""
from typing import List, Optional, Tuple

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.datasets.transforms import LoadAnnotations as MMDetLoadAnnotations
from mmengine.fileio import get
from mmengine.logging import print_log
from mmseg.datasets.transforms import LoadAnnotations as MMSegLoadAnnotations

from tdfusion_mm.registry import TRANSFORMS
from tdfusion_mm.utils.user_errors import InvalidInputFileError

_JPEG_START = b'\xff\xd8'
_JPEG_END = b'\xff\xd9'
_PNG_START = b'\x89PNG\r\n\x1a\n'
_PNG_END = b'IEND\xaeB`\x82'
# How far (pixels) a box may reach past the border unclipped: VOC corners
# are 1-based and some annotators write 0 or the image's width.
BOX_TOLERANCE = 1.0


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
                raise InvalidInputFileError(
                    f'{ir_path}: the infrared image is {ir.shape[0]}x'
                    f'{ir.shape[1]} (HxW) but the visible image {vis_path} '
                    f'is {vis.shape[0]}x{vis.shape[1]}; give '
                    'LoadIrVisFromFile resize_ir_to_vis=True to resize the '
                    'infrared image')
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
    """mmseg's ``LoadAnnotations`` that refuses label maps that do not fit
    their pair.

    After loading (and ``label_map``/``reduce_zero_label``), every value of
    ``gt_seg_map`` must be a class (0 to ``num_classes - 1``) or the ignore
    index, and the map must have the size of the loaded image
    (``ori_shape``, when the image is loaded); otherwise an error names the
    label file and the values or sizes. Without the check a value outside
    the classes fails only inside the loss (``Target 50 is out of
    bounds``), without a file name, and a map of another size is silently
    stretched by the resize that follows.

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
        label_size = results['gt_seg_map'].shape[:2]
        image_size = results.get('ori_shape')
        if image_size is not None and tuple(image_size) != label_size:
            raise InvalidInputFileError(
                f'{path}: the label map is {label_size[0]}x{label_size[1]} '
                f'(HxW) but the image {results.get("img_path")} is '
                f'{image_size[0]}x{image_size[1]}')


@TRANSFORMS.register_module()
class LoadDetAnnotations(MMDetLoadAnnotations):
    """mmdet's ``LoadAnnotations`` that checks the boxes against the image.

    Before the boxes are loaded (so before any crop or resize), each box of
    ``instances`` (x1, y1, x2, y2 in pixels) is checked against the loaded
    image (``ori_shape``) and the file it came from (``xml_path``, else
    ``img_path``):

    - empty or inverted (``x2 <= x1`` or ``y2 <= y1``), or outside the
      image (nothing left after clipping): an error naming the file and the
      box;
    - reaching past the border by more than :data:`BOX_TOLERANCE` pixels:
      clipped to the image, as mmdet's ``Resize`` clips boxes
      (``clip_object_border``), with one warning per file;
    - an annotation stating another image size (``height``, ``width``):
      an error.

    Args:
        **kwargs: Arguments of mmdet's ``LoadAnnotations``.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._clipped_files = set()

    def _load_bboxes(self, results: dict) -> None:
        image_size = results.get('ori_shape')
        if image_size is not None:
            self._check_boxes(results, *image_size[:2])
        super()._load_bboxes(results)

    def _check_boxes(self, results: dict, height: int, width: int) -> None:
        """Raise on a bad box or stated size; clip boxes past the border."""
        where = results.get('xml_path') or results.get('img_path')
        stated = (results.get('height'), results.get('width'))
        if None not in stated and tuple(stated) != (height, width):
            raise InvalidInputFileError(
                f'{where}: the annotation states a {stated[0]}x{stated[1]} '
                f'image but {results.get("img_path")} is {height}x{width}')
        instances = results.get('instances', [])
        problems = box_problems([i['bbox'] for i in instances], height,
                                width)
        changes = []
        for index, problem, clipped in problems:
            if clipped is None:
                raise InvalidInputFileError(f'{where}: {problem}')
            changes.append(f'box {index} {instances[index]["bbox"]} -> '
                           f'{clipped}')
            instances[index]['bbox'] = clipped
        if changes and where not in self._clipped_files:
            self._clipped_files.add(where)
            print_log(
                f'{where}: {len(changes)} box(es) reach past the border of '
                f'the {height}x{width} image by more than {BOX_TOLERANCE:g} '
                f'px and are clipped: {"; ".join(changes)} '
                f'({len(self._clipped_files)} file(s) with clipped boxes so '
                'far)', logger='current', level=30)


def box_problems(bboxes: List[List[float]], height: int,
                 width: int) -> List[Tuple[int, str, Optional[list]]]:
    """What is wrong with the boxes (x1, y1, x2, y2) of a ``height`` x
    ``width`` image: ``(index, problem, clipped)`` per bad box, ``clipped``
    being the box clipped to the image when that is the remedy (it reaches
    past the border by more than :data:`BOX_TOLERANCE`), None when the box
    is empty, inverted or outside the image (an error)."""
    problems = []
    for k, box in enumerate(bboxes):
        x1, y1, x2, y2 = (float(v) for v in box)
        value = [round(v, 2) for v in (x1, y1, x2, y2)]
        clipped = [max(x1, 0.), max(y1, 0.), min(x2, float(width)),
                   min(y2, float(height))]
        if not (x2 > x1 and y2 > y1):
            problems.append((k, f'box {k} {value} is empty or inverted '
                             '(x2 <= x1 or y2 <= y1)', None))
        elif not (clipped[2] > clipped[0] and clipped[3] > clipped[1]):
            problems.append((k, f'box {k} {value} lies outside the '
                             f'{height}x{width} image', None))
        elif (min(x1, y1) < -BOX_TOLERANCE or x2 > width + BOX_TOLERANCE
              or y2 > height + BOX_TOLERANCE):
            problems.append((k, f'box {k} {value} is not inside the '
                             f'{height}x{width} image', clipped))
    return problems


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
