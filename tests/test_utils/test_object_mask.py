"""object_mask: the pixels of the annotated objects."""
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from tdfusion_mm.utils import object_mask


def det_sample(boxes, scale_factor=(1.0, 1.0)):
    sample = DetDataSample(metainfo=dict(scale_factor=scale_factor))
    sample.gt_instances = InstanceData(bboxes=torch.tensor(boxes).float())
    return sample


def test_boxes_fill_their_pixels():
    mask = object_mask([det_sample([[2, 1, 5, 3]]), det_sample([[0, 0, 1, 1]])],
                       (6, 8))
    assert mask.shape == (2, 1, 6, 8) and mask.dtype == torch.bool
    assert mask[0, 0].sum() == 3 * 2 and mask[0, 0, 1:3, 2:5].all()
    assert mask[1, 0].sum() == 1 and mask[1, 0, 0, 0]


def test_test_time_boxes_are_scaled_to_the_task_image():
    sample = det_sample([[2, 2, 4, 4]], scale_factor=(2.0, 0.5))
    mask = object_mask([sample], (8, 10), boxes_scaled=False)
    assert mask[0, 0, 1:2, 4:8].all() and mask[0, 0].sum() == 4


def test_segmentation_objects_are_classes_other_than_0_and_ignore():
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(
        data=torch.tensor([[[0, 1, 2], [255, 0, 3]]]))
    mask = object_mask([sample], (2, 3))[0, 0]
    assert mask.tolist() == [[False, True, True], [False, False, True]]


def test_a_sample_without_annotations_is_an_error():
    with pytest.raises(KeyError, match='gt_sem_seg'):
        object_mask([DetDataSample()], (4, 4))
