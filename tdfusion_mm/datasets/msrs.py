"""MSRS: paired infrared-visible semantic segmentation."""
import os.path as osp
from typing import List

from mmengine.fileio import exists
from mmseg.datasets import BaseSegDataset

from tdfusion_mm.registry import DATASETS

from .data_prefix import check_data_prefix
from .image_ids import load_ids


@DATASETS.register_module()
class MSRSDataset(BaseSegDataset):
    """MSRS dataset (Tang et al., PIAFusion, Information Fusion 2022), built
    from MFNet (Ha et al., IROS 2017): 1,083 train and 361 test pairs of
    480x640.

    Layout of the official release::

        data_root/
            train/ir/<id>.png       infrared
            train/vi/<id>.png       visible
            train/Label/<id>.png    labels 0-8 (uint8)
            test/{ir,vi,Label}/<id>.png

    The label folder is ``Label`` in the copies most repositories ship and
    ``Segmentation_labels`` in some releases: it is the ``seg_map_path`` key
    of ``data_prefix``.

    The 9 labels are all classes of the mIoU, ``unlabelled`` (0) included:
    SegMiF's MFNet evaluation (``test_segmentation.py``) builds its confusion
    matrix over labels 0-8 and averages the IoU of all 9, and the official
    TDFusion code trains a 9-way classifier (``class_num + 1`` with
    ``class_num = 8``) with a plain cross-entropy (no ignored label). So
    ``reduce_zero_label`` is False and ``ignore_index`` (255) only marks
    padding.

    Each data info holds ``img_path`` (the visible image, so that mmseg's
    transforms and metrics see it as "the image"), ``ir_path``,
    ``seg_map_path`` (unless ``data_prefix`` has no ``seg_map_path``),
    ``label_map``, ``reduce_zero_label`` and ``seg_fields``, as mmseg's
    :class:`BaseSegDataset` builds them, and ``num_classes`` and
    ``ignore_index``, with which :class:`LoadSegAnnotations` checks the
    label values.

    Args:
        img_suffix (str): File name suffix of both images. Defaults to
            ``'.png'``.
        seg_map_suffix (str): File name suffix of the label maps. Defaults
            to ``'.png'``.
        reduce_zero_label (bool): Whether to ignore label 0 and shift the
            others down by one. Defaults to False.
        data_prefix (dict): Folders of the visible images (``img_path``), the
            infrared images (``ir_path``) and the label maps
            (``seg_map_path``, optional), relative to ``data_root``. Defaults
            to ``dict(img_path='train/vi', ir_path='train/ir',
            seg_map_path='train/Label')``.
        **kwargs: Other arguments of :class:`mmseg.datasets.BaseSegDataset`
            (``ann_file``: a text file with one image id per line, optional;
            without it every ``<id><img_suffix>`` of the visible folder is
            used, sorted. ``metainfo``, ``data_root``, ``pipeline``,
            ``test_mode``, ``ignore_index``, ``backend_args``, ...).
    """

    METAINFO = dict(
        classes=('unlabelled', 'car', 'person', 'bike', 'curve', 'car_stop',
                 'guardrail', 'color_cone', 'bump'),
        palette=[[0, 0, 0], [64, 0, 128], [64, 64, 0], [0, 128, 192],
                 [0, 0, 192], [128, 128, 0], [64, 64, 128], [192, 128, 128],
                 [192, 64, 0]])

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 data_prefix: dict = dict(
                     img_path='train/vi',
                     ir_path='train/ir',
                     seg_map_path='train/Label'),
                 **kwargs) -> None:
        check_data_prefix(type(self).__name__, data_prefix,
                          ('img_path', 'ir_path'))
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            data_prefix=data_prefix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Build the data info of every listed pair.

        Returns:
            list[dict]: One data info per pair, in the order of the ids.
        """
        return [self.parse_data_info(img_id) for img_id in self.load_ids()]

    def load_ids(self) -> List[str]:
        """Read the image ids of ``ann_file``, or list the visible folder.

        Returns:
            list[str]: The image ids, without blank lines.
        """
        return load_ids(self.ann_file, self.data_prefix['img_path'],
                        self.img_suffix, self.backend_args)

    def parse_data_info(self, img_id: str) -> dict:
        """Build the data info of one pair; raise an error naming any
        missing file.

        Args:
            img_id (str): The image id (file name without suffix).

        Returns:
            dict: The data info described in the class docstring.
        """
        files = dict(
            img_path=('visible image', self.data_prefix['img_path'],
                      self.img_suffix),
            ir_path=('infrared image', self.data_prefix['ir_path'],
                     self.img_suffix))
        if self.data_prefix.get('seg_map_path'):
            files['seg_map_path'] = ('label map',
                                     self.data_prefix['seg_map_path'],
                                     self.seg_map_suffix)
        info = {}
        for key, (kind, folder, suffix) in files.items():
            path = osp.join(folder, img_id + suffix)
            if not exists(path, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'The {kind} of id {img_id!r} does not exist: {path}')
            info[key] = path
        info.update(
            num_classes=len(self.metainfo['classes']),
            ignore_index=self.ignore_index,
            label_map=self.label_map,
            reduce_zero_label=self.reduce_zero_label,
            seg_fields=[])
        return info
