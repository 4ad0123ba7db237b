"""Tests of FusionDataPreprocessor."""
import pytest
import torch
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from tdfusion_mm.models.data_preprocessors import FusionDataPreprocessor
from tdfusion_mm.registry import MODELS


def det_sample(h, w, boxes=((1., 2., 5., 6.), ), path='a.png'):
    sample = DetDataSample(
        metainfo=dict(img_shape=(h, w), ori_shape=(h, w), img_path=path,
                      scale_factor=(1., 1.)))
    sample.gt_instances = InstanceData(
        bboxes=HorizontalBoxes(torch.tensor(boxes)),
        labels=torch.zeros(len(boxes), dtype=torch.long))
    return sample


def pair(h, w, seed=0, dtype=torch.uint8, vis_channels=3):
    """A visible image and an IR equal to its channel 0."""
    g = torch.Generator().manual_seed(seed)
    high = 256 if dtype == torch.uint8 else 65536
    vis = torch.randint(0, high, (vis_channels, h, w), generator=g)
    return vis[:1].to(dtype), vis.to(dtype)


def batch(sizes, dtype=torch.uint8, crops=False):
    irs, viss, samples = [], [], []
    for i, (h, w) in enumerate(sizes):
        ir, vis = pair(h, w, seed=i, dtype=dtype)
        irs.append(ir)
        viss.append(vis)
        samples.append(det_sample(h, w, path=f'{i}.png'))
    inputs = dict(ir=irs, vis=viss)
    if crops:
        inputs['ir_crop'] = [ir[:, :8, :8].clone() for ir in irs]
        inputs['vis_crop'] = [vis[:, :8, :8].clone() for vis in viss]
    return dict(inputs=inputs, data_samples=samples)


def test_uint8_and_uint16_scaled_to_unit_range():
    for dtype, scale in ((torch.uint8, 255.), (torch.uint16, 65535.)):
        data = batch([(6, 7)], dtype=dtype)
        ir, vis = data['inputs']['ir'][0], data['inputs']['vis'][0]
        out = FusionDataPreprocessor()(data)['inputs']
        assert out['ir'].dtype == out['vis'].dtype == torch.float32
        torch.testing.assert_close(out['ir'][0], ir.float() / scale)
        # Channel order is kept (BGR stays BGR).
        torch.testing.assert_close(out['vis'][0], vis.float() / scale)
    floats = dict(inputs=dict(ir=[torch.full((1, 2, 2), .5)],
                              vis=[torch.full((3, 2, 2), .25)]))
    out = FusionDataPreprocessor()(floats)['inputs']
    assert out['ir'].max() == .5 and out['vis'].max() == .25
    floats['inputs']['vis'] = [torch.full((3, 2, 2), 200.)]
    with pytest.raises(ValueError, match="'vis'.*PhotoMetricDistortion"):
        FusionDataPreprocessor()(floats)
    bad = dict(inputs=dict(ir=[torch.zeros(1, 2, 2, dtype=torch.int32)],
                           vis=[torch.zeros(3, 2, 2, dtype=torch.uint8)]))
    with pytest.raises(TypeError, match="'ir'"):
        FusionDataPreprocessor()(bad)


def test_pad_stack_and_meta_like_det_data_preprocessor():
    sizes = [(10, 13), (17, 9)]
    data = batch(sizes)
    ref_data = batch(sizes)
    ref_data['inputs'] = ref_data['inputs']['vis']
    ref = DetDataPreprocessor(pad_size_divisor=8)(ref_data)
    out = FusionDataPreprocessor(pad_size_divisor=8)(data)
    ir, vis = out['inputs']['ir'], out['inputs']['vis']
    assert ir.shape == (2, 1, 24, 16) and vis.shape == (2, 3, 24, 16)
    torch.testing.assert_close(vis, ref['inputs'] / 255.)
    torch.testing.assert_close(ir, vis[:, :1])
    assert not vis[0, :, 10:].any() and not vis[0, :, :, 13:].any()
    for sample, ref_sample in zip(out['data_samples'], ref['data_samples']):
        assert sample.batch_input_shape == ref_sample.batch_input_shape \
            == (24, 16)
        assert sample.pad_shape == ref_sample.pad_shape
        # boxtype2tensor, as DetDataPreprocessor does by default.
        assert isinstance(sample.gt_instances.bboxes, torch.Tensor)
    assert [s.pad_shape for s in out['data_samples']] == [(16, 16), (24, 16)]


def test_crops_and_stacked_input():
    data = batch([(10, 12), (10, 12)], crops=True)
    data['inputs'] = {k: torch.stack(v) for k, v in data['inputs'].items()}
    out = FusionDataPreprocessor(pad_size_divisor=4)(data)['inputs']
    assert out['ir_crop'].shape == (2, 1, 8, 8)
    assert out['vis_crop'].shape == (2, 3, 8, 8)
    torch.testing.assert_close(out['ir_crop'], out['ir'][:, :, :8, :8])
    assert out['ir'].shape == (2, 1, 12, 12)


def test_bad_inputs_are_named():
    data = batch([(10, 12), (10, 12)])
    data['inputs']['ir'][1] = data['inputs']['ir'][1][:, :5]
    with pytest.raises(ValueError, match='1.png'):
        FusionDataPreprocessor()(data)
    with pytest.raises(KeyError, match='vis'):
        FusionDataPreprocessor()(dict(inputs=dict(ir=[torch.zeros(1, 2, 2)])))
    with pytest.raises(ValueError, match='vis_crop'):
        FusionDataPreprocessor()(
            dict(inputs=dict(ir=[torch.zeros(1, 2, 2)],
                             vis=[torch.zeros(1, 2, 2)],
                             ir_crop=[torch.zeros(1, 2, 2)])))


def test_seg_data_sample_padded_with_255_in_training():
    def data():
        samples = []
        for h, w in ((5, 6), (7, 4)):
            s = SegDataSample(metainfo=dict(img_shape=(h, w)))
            s.gt_sem_seg = PixelData(data=torch.ones(1, h, w,
                                                     dtype=torch.long))
            samples.append(s)
        ir = [torch.zeros(1, 5, 6, dtype=torch.uint8),
              torch.zeros(1, 7, 4, dtype=torch.uint8)]
        return dict(inputs=dict(ir=ir, vis=[t.clone() for t in ir]),
                    data_samples=samples)

    pre = FusionDataPreprocessor(pad_size_divisor=4, pad_seg=True)
    out = pre(data(), training=True)
    seg = torch.stack([s.gt_sem_seg.data for s in out['data_samples']])
    assert seg.shape == (2, 1, 8, 8)
    assert (seg[0, :, :5, :6] == 1).all() and (seg[0, :, 5:] == 255).all()
    assert (seg[1, :, :, 4:] == 255).all()
    out = pre(data(), training=False)
    assert out['data_samples'][0].gt_sem_seg.shape == (5, 6)


def test_batch_augments_transform_both_modalities_and_boxes_once():
    message_hub = MessageHub.get_current_instance()
    message_hub.update_info('iter', 0)
    pre = MODELS.build(
        dict(
            type='tdfusion_mm.FusionDataPreprocessor',
            batch_augments=[
                dict(type='mmdet.BatchSyncRandomResize',
                     random_size_range=(64, 64), interval=1, size_divisor=32),
                dict(type='mmdet.BatchFixedSizePad', size=(80, 96)),
            ]))
    # First batch: only draws the next size (64 x 64 * aspect ratio).
    pre(batch([(32, 32), (32, 32)], crops=True), training=True)
    out = pre(batch([(32, 32), (32, 32)], crops=True), training=True)
    ir, vis = out['inputs']['ir'], out['inputs']['vis']
    assert ir.shape == (2, 1, 80, 96) and vis.shape == (2, 3, 80, 96)
    torch.testing.assert_close(ir, vis[:, :1])
    assert vis[:, :, :64, :64].any() and not vis[:, :, 64:].any()
    # The crops are not augmented.
    assert out['inputs']['ir_crop'].shape == (2, 1, 8, 8)
    for sample in out['data_samples']:
        torch.testing.assert_close(sample.gt_instances.bboxes,
                                   torch.tensor([[2., 4., 10., 12.]]))
        assert sample.batch_input_shape == (80, 96)
        assert sample.img_shape == (64, 64)
