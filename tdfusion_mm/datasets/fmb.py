"""FMB: paired infrared-visible semantic segmentation."""
from tdfusion_mm.registry import DATASETS
from .msrs import MSRSDataset


@DATASETS.register_module()
class FMBDataset(MSRSDataset):
    """FMB, the full-time multi-modality benchmark (Liu et al., SegMiF, ICCV
    2023): 1,220 train and 280 test pairs of 600x800.

    Layout of the official release::

        data_root/
            train/Infrared/<id>.png
            train/Visible/<id>.png
            train/Label/<id>.png      labels 0-14 (uint8)
            test/{Infrared,Visible,Label}/<id>.png

    The 15 labels are 14 classes plus ``background`` (0, "unlabeled"), as
    the SegMiF authors give the mapping (JinyuanLiu-CV/SegMiF issue #10), and
    all 15 are classes of the mIoU. No FMB evaluation code was released; the
    released SegMiF evaluation (MFNet) counts label 0 in the mean, and the
    official TDFusion code trains a 15-way classifier (``class_num + 1``
    with ``class_num = 14``) with a plain cross-entropy, so 0 is a class.
    So ``reduce_zero_label`` is False and ``ignore_index`` (255) only marks
    padding. Note (SegMiF issue #28): the test labels hold no bicycle
    pixels, so its IoU is NaN and mmseg's mean leaves it out. Data infos
    are as in :class:`MSRSDataset`.

    Args:
        data_prefix (dict): Folders of the visible images (``img_path``), the
            infrared images (``ir_path``) and the label maps
            (``seg_map_path``, optional), relative to ``data_root``. Defaults
            to ``dict(img_path='train/Visible', ir_path='train/Infrared',
            seg_map_path='train/Label')``.
        **kwargs: Other arguments of :class:`MSRSDataset`.
    """

    METAINFO = dict(
        classes=('background', 'Road', 'Sidewalk', 'Building', 'Lamp', 'Sign',
                 'Vegetation', 'Sky', 'Person', 'Car', 'Truck', 'Bus',
                 'Motorcycle', 'Bicycle', 'Pole'),
        palette=[[0, 0, 0], [128, 64, 128], [244, 35, 232], [70, 70, 70],
                 [250, 170, 30], [220, 220, 0], [107, 142, 35],
                 [70, 130, 180], [220, 20, 60], [0, 0, 142], [0, 0, 70],
                 [0, 60, 100], [0, 0, 230], [119, 11, 32], [153, 153, 153]])

    def __init__(self,
                 data_prefix: dict = dict(
                     img_path='train/Visible',
                     ir_path='train/Infrared',
                     seg_map_path='train/Label'),
                 **kwargs) -> None:
        super().__init__(data_prefix=data_prefix, **kwargs)
