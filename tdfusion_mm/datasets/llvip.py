"""LLVIP: paired infrared-visible pedestrian detection."""
from typing import List

from tdfusion_mm.registry import DATASETS

from .image_ids import load_ids
from .m3fd import M3FDDataset


@DATASETS.register_module()
class LLVIPDataset(M3FDDataset):
    """LLVIP dataset (Jia et al., ICCV-W 2021): 15,488 aligned pairs.

    Layout of the official release::

        data_root/
            infrared/{train,test}/<id>.jpg
            visible/{train,test}/<id>.jpg
            Annotations/<id>.xml          Pascal VOC boxes, class 'person'

    The annotations of both splits share one folder; the split is given by
    the image folders in ``data_prefix``. ``ann_file`` is optional: a text
    file with one id per line; if empty, every ``<id><img_suffix>`` of the
    visible folder is used (sorted). Data infos and ``filter_cfg`` are as in
    :class:`M3FDDataset`.

    Args:
        img_suffix (str): File name suffix of both images. Defaults to
            ``'.jpg'``.
        data_prefix (dict): Folders of the visible images (``img_path``),
            the infrared images (``ir_path``) and the annotations
            (``xml_path``), relative to ``data_root``. Defaults to
            ``dict(img_path='visible/train', ir_path='infrared/train',
            xml_path='Annotations')``.
        **kwargs: Other arguments of :class:`M3FDDataset`.
    """

    METAINFO = dict(classes=('person', ), palette=[(220, 20, 60)])

    def __init__(self,
                 img_suffix: str = '.jpg',
                 data_prefix: dict = dict(
                     img_path='visible/train',
                     ir_path='infrared/train',
                     xml_path='Annotations'),
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix, data_prefix=data_prefix, **kwargs)

    def load_ids(self) -> List[str]:
        """Read the ids of ``ann_file``, or list the visible folder.

        Returns:
            list[str]: The image ids.
        """
        return load_ids(self.ann_file, self.data_prefix['img_path'],
                        self.img_suffix, self.backend_args)
