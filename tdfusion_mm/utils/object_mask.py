"""Where the task's objects are, as a pixel mask of the task image."""
import torch
from torch import Tensor


def object_mask(data_samples: list, shape: tuple,
                boxes_scaled: bool = True) -> Tensor:
    """Pixels covered by the task's annotated objects.

    For detection samples: the pixels inside the ground-truth boxes; for
    segmentation samples: the pixels whose label is a class other than 0
    (the background / unlabelled class of MSRS and FMB) and other than the
    ignore index 255.

    Args:
        data_samples (list): mmdet ``DetDataSample`` (``gt_instances``) or
            mmseg ``SegDataSample`` (``gt_sem_seg``) of the batch.
        shape (tuple): (H, W) of the task image the mask is for.
        boxes_scaled (bool): Whether the boxes are already in the task
            image's coordinates (training pipelines); if False (test
            pipelines load boxes at the original size) they are scaled by
            the sample's ``scale_factor``. Defaults to True.

    Returns:
        Tensor: (B, 1, H, W) bool.
    """
    height, width = shape
    mask = torch.zeros(len(data_samples), 1, height, width, dtype=torch.bool)
    for i, sample in enumerate(data_samples):
        if 'gt_sem_seg' in sample:
            label = sample.gt_sem_seg.data[0][:height, :width].cpu()
            mask[i, 0, :label.shape[0], :label.shape[1]] = (
                (label > 0) & (label != 255))
        elif 'gt_instances' in sample:
            boxes = sample.gt_instances.bboxes
            boxes = getattr(boxes, 'tensor', boxes).detach().cpu().float()
            if not boxes_scaled:
                sx, sy = sample.metainfo.get('scale_factor', (1, 1))
                boxes = boxes * boxes.new_tensor([sx, sy, sx, sy])
            for x0, y0, x1, y1 in boxes.round().long().tolist():
                mask[i, 0, max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
        else:
            raise KeyError('object_mask: a data sample has neither '
                           '`gt_sem_seg` nor `gt_instances`')
    return mask


class ObjectBackgroundMean:
    """Running means of a per-pixel map on the annotated objects' pixels
    and on the rest (e.g. G's w_ir), over batches.

    Call :meth:`add` with a (B, 1, H, W) map and the batch's data samples
    (see :func:`object_mask`); :meth:`result` gives ``objects`` and
    ``background`` (a part with no pixel is left out).
    """

    def __init__(self) -> None:
        self.sums = dict(objects=[0.0, 0], background=[0.0, 0])

    def add(self, values: Tensor, data_samples: list,
            boxes_scaled: bool = True) -> None:
        mask = object_mask(data_samples, values.shape[-2:],
                           boxes_scaled).to(values.device)
        for key, part in (('objects', mask), ('background', ~mask)):
            self.sums[key][0] += values[part].sum().item()
            self.sums[key][1] += int(part.sum())

    def result(self) -> dict:
        return {k: s / n for k, (s, n) in self.sums.items() if n}
