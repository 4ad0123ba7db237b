"""The batch TDFusion trains on: luma, crops and the modality swap."""
import torch
from mmengine.structures import BaseDataElement

from tdfusion_mm.models.algorithms.fusion_batch import fusion_batch
from tdfusion_mm.utils.colour import luma


def inputs(n=2, crops=True):
    torch.manual_seed(0)
    out = dict(ir=torch.rand(n, 1, 8, 10), vis=torch.rand(n, 3, 8, 10))
    if crops:
        out.update(ir_crop=torch.rand(n, 1, 4, 4),
                   vis_crop=torch.rand(n, 3, 4, 4))
    return out


def samples(n=2):
    return [BaseDataElement(metainfo=dict(index=i)) for i in range(n)]


def test_without_swap_the_batch_is_in_luma():
    data, data_samples = inputs(), samples()
    batch = fusion_batch(data, data_samples, swap_modalities=False)
    assert batch.ir is data['ir'] and batch.vis_bgr is data['vis']
    assert torch.equal(batch.vis_y, luma(data['vis']))
    assert batch.ir_crop is data['ir_crop']
    assert torch.equal(batch.vis_y_crop, luma(data['vis_crop']))
    assert batch.data_samples is data_samples


def test_without_crops_the_fusion_loss_takes_the_whole_images():
    batch = fusion_batch(inputs(crops=False), samples(), False)
    assert batch.ir_crop is batch.ir and batch.vis_y_crop is batch.vis_y


def test_swap_doubles_the_batch():
    data, n = inputs(), 2
    batch = fusion_batch(data, samples(n), swap_modalities=True)
    assert batch.ir.shape[0] == 2 * n and len(batch.data_samples) == 2 * n
    assert torch.equal(batch.ir[:n], batch.vis_y[n:])
    assert torch.equal(batch.vis_y[:n], batch.ir[n:])
    assert torch.equal(batch.ir_crop[:n], batch.vis_y_crop[n:])
    assert torch.equal(batch.vis_y_crop[:n], batch.ir_crop[n:])
    # The chroma stays the visible image's in both halves.
    assert torch.equal(batch.vis_bgr[n:], data['vis'])
    assert batch.data_samples[n] is not batch.data_samples[0]
    assert batch.data_samples[n].index == batch.data_samples[0].index
