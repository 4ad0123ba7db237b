"""M3FD: paired infrared-visible detection with Pascal VOC annotations."""
import os.path as osp
import xml.etree.ElementTree as ET
from typing import List

import mmcv
from mmdet.datasets import BaseDetDataset
from mmengine.fileio import exists, get, get_local_path

from tdfusion_mm.registry import DATASETS
from tdfusion_mm.utils.user_errors import InvalidInputFileError

from .data_prefix import check_data_prefix
from .image_ids import load_ids


@DATASETS.register_module()
class M3FDDataset(BaseDetDataset):
    """M3FD dataset (Liu et al., TarDAL, CVPR 2022): 4,200 aligned pairs.

    Layout of the official release::

        data_root/
            Ir/<id>.png           infrared
            Vis/<id>.png          visible
            Annotation/<id>.xml   Pascal VOC boxes

    M3FD has no official split: ``ann_file`` is a text file with one image
    id per line (see ``tools/dataset_converters/make_m3fd_split.py``).

    Each data info holds ``img_path`` (the visible image, so that mmdet's
    transforms and metrics see it as "the image"), ``ir_path``, ``img_id``,
    ``xml_path``, ``height``, ``width`` and ``instances``; an instance holds
    ``bbox`` (x1, y1, x2, y2 in pixels, minus one as mmdet's ``XMLDataset``
    does with the 1-based VOC coordinates), ``bbox_label`` and
    ``ignore_flag`` (from ``<difficult>``).

    ``filter_cfg`` takes ``filter_empty_gt`` (drop pairs without objects,
    training only) and ``min_size`` (drop pairs whose shorter side is
    smaller), like mmdet's ``XMLDataset``.

    Args:
        img_suffix (str): File name suffix of both images. Defaults to
            ``'.png'``.
        skip_unknown_classes (bool): Drop objects whose name is not one of
            ``metainfo['classes']`` instead of raising an error. Defaults to
            False.
        data_prefix (dict): Folders of the visible images (``img_path``),
            the infrared images (``ir_path``) and the annotations
            (``xml_path``), relative to ``data_root``; each key is the
            data-info key it fills. Defaults to
            ``dict(img_path='Vis', ir_path='Ir', xml_path='Annotation')``.
        **kwargs: Other arguments of :class:`mmdet.datasets.BaseDetDataset`
            (``ann_file``, ``metainfo``, ``data_root``, ``filter_cfg``,
            ``pipeline``, ``test_mode``, ``lazy_init``, ``backend_args``, ...).
    """

    METAINFO = dict(
        classes=('People', 'Car', 'Bus', 'Motorcycle', 'Lamp', 'Truck'),
        palette=[(220, 20, 60), (0, 0, 142), (0, 60, 100), (0, 0, 230),
                 (250, 170, 30), (0, 0, 70)])

    def __init__(self,
                 img_suffix: str = '.png',
                 skip_unknown_classes: bool = False,
                 data_prefix: dict = dict(
                     img_path='Vis', ir_path='Ir', xml_path='Annotation'),
                 **kwargs) -> None:
        check_data_prefix(type(self).__name__, data_prefix,
                          ('img_path', 'ir_path', 'xml_path'))
        self.img_suffix = img_suffix
        self.skip_unknown_classes = skip_unknown_classes
        super().__init__(data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse the annotation of every listed pair.

        Returns:
            list[dict]: One data info per pair, in the order of the ids.
        """
        return [self.parse_data_info(img_id) for img_id in self.load_ids()]

    @property
    def cat2label(self) -> dict:
        """Class name -> label."""
        return {cat: i for i, cat in enumerate(self._metainfo['classes'])}

    def load_ids(self) -> List[str]:
        """Read the image ids listed in ``ann_file``.

        Returns:
            list[str]: The ids, without blank lines.
        """
        if not self.ann_file:
            raise ValueError(
                f'{type(self).__name__} needs ann_file, a split file with '
                'one image id per line (M3FD has no official split; make one '
                'with tools/dataset_converters/make_m3fd_split.py)')
        return load_ids(self.ann_file, None, self.img_suffix,
                        self.backend_args)

    def parse_data_info(self, img_id: str) -> dict:
        """Build the data info of one pair.

        Args:
            img_id (str): The image id (file name without suffix).

        Returns:
            dict: The data info described in the class docstring.
        """
        img_path = osp.join(self.data_prefix['img_path'],
                            img_id + self.img_suffix)
        ir_path = osp.join(self.data_prefix['ir_path'],
                           img_id + self.img_suffix)
        xml_path = osp.join(self.data_prefix['xml_path'], f'{img_id}.xml')
        for kind, path in (('visible image', img_path),
                           ('infrared image', ir_path),
                           ('annotation', xml_path)):
            if not exists(path, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'The {kind} of id {img_id!r} does not exist: {path}')

        with get_local_path(
                xml_path, backend_args=self.backend_args) as local_path:
            try:
                root = ET.parse(local_path).getroot()
            except ET.ParseError as e:
                raise InvalidInputFileError(
                    f'{xml_path}: cannot parse the annotation: {e}') from e

        height, width = self._image_size(root, img_path)
        return dict(
            img_path=img_path,
            ir_path=ir_path,
            img_id=img_id,
            xml_path=xml_path,
            height=height,
            width=width,
            instances=self._parse_instances(root, xml_path))

    def _image_size(self, root: ET.Element, img_path: str) -> tuple:
        """Image (height, width) from ``<size>``, else from the visible
        image."""
        width = root.findtext('size/width')
        height = root.findtext('size/height')
        if width is not None and height is not None \
                and int(width) > 0 and int(height) > 0:
            return int(height), int(width)
        img = mmcv.imfrombytes(
            get(img_path, backend_args=self.backend_args), flag='unchanged')
        if img is None:
            raise OSError(f'Cannot decode the visible image {img_path}')
        return img.shape[:2]

    def _parse_instances(self, root: ET.Element, xml_path: str) -> List[dict]:
        """Parse the ``<object>`` elements of one annotation file."""
        instances = []
        cat2label = self.cat2label
        for obj in root.findall('object'):
            name = (obj.findtext('name') or '').strip()
            if name not in cat2label:
                if self.skip_unknown_classes:
                    continue
                raise InvalidInputFileError(
                    f'{xml_path}: object name {name!r} is not one of the '
                    f'classes {tuple(cat2label)}; pass '
                    'skip_unknown_classes=True to drop such objects')
            try:
                bbox = [
                    float(obj.findtext(f'bndbox/{k}')) - 1
                    for k in ('xmin', 'ymin', 'xmax', 'ymax')
                ]
            except (TypeError, ValueError) as e:
                raise InvalidInputFileError(
                    f'{xml_path}: object {name!r} has a missing or invalid '
                    '<bndbox>') from e
            difficult = int(obj.findtext('difficult') or 0)
            instances.append(
                dict(
                    bbox=bbox,
                    bbox_label=cat2label[name],
                    ignore_flag=int(difficult != 0)))
        return instances

    def filter_data(self) -> List[dict]:
        """Apply ``filter_cfg`` (``filter_empty_gt``, ``min_size``).

        Returns:
            list[dict]: The kept data infos; all of them in test mode.
        """
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        return [
            info for info in self.data_list
            if not (filter_empty_gt and not info['instances'])
            and min(info['width'], info['height']) >= min_size
        ]

    def get_cat_ids(self, idx: int) -> List[int]:
        """Labels of the objects in pair ``idx`` (for class-aware samplers).

        Args:
            idx (int): Index of the data info.

        Returns:
            list[int]: The labels, one per object.
        """
        return [i['bbox_label'] for i in self.get_data_info(idx)['instances']]
