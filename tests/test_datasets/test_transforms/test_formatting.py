"""PackFusionDetInputs: both images packed beside mmdet's sample."""
import numpy as np
import torch
from mmdet.datasets.transforms import PackDetInputs
from transform_helpers import H, W, grey, pair_results, smooth_vis

from tdfusion_mm.datasets.transforms import (PackFusionDetInputs,
                                             RandomFusionCrop)
from tdfusion_mm.registry import TRANSFORMS


def test_pack_fusion_det_inputs_matches_pack_det_inputs():
    results = pair_results()
    results.update(img_id='x', scale_factor=(1., 1.), flip=False,
                   flip_direction=None)
    results = RandomFusionCrop(16)(results)
    ref = PackDetInputs()(dict(results))
    out = PackFusionDetInputs()(dict(results))
    inputs = out['inputs']
    assert set(inputs) == {'ir', 'vis', 'ir_crop', 'vis_crop'}
    assert inputs['ir'].shape == (1, H, W) and inputs['ir'].dtype \
        == torch.uint8
    torch.testing.assert_close(inputs['vis'], ref['inputs'])
    torch.testing.assert_close(inputs['ir'][0],
                               torch.from_numpy(results['ir_img']))
    assert inputs['vis_crop'].shape == (3, 16, 16)
    torch.testing.assert_close(inputs['ir_crop'][0],
                               torch.from_numpy(results['ir_crop']))
    sample, ref_sample = out['data_samples'], ref['data_samples']
    assert type(sample) is type(ref_sample)
    assert sample.ir_path == 'ir.png'
    meta = dict(sample.metainfo)
    assert meta.pop('ir_path') == 'ir.png'
    assert meta == ref_sample.metainfo
    torch.testing.assert_close(sample.gt_instances.bboxes.tensor,
                               ref_sample.gt_instances.bboxes.tensor)
    torch.testing.assert_close(sample.gt_instances.labels,
                               ref_sample.gt_instances.labels)


def test_pack_16bit_ir_and_grey_vis():
    vis = grey(smooth_vis())
    ir = vis.astype(np.uint16) * 257
    out = PackFusionDetInputs()(pair_results(vis=vis, ir=ir))
    assert out['inputs']['ir'].dtype == torch.uint16
    assert out['inputs']['vis'].shape == (1, H, W)
    assert 'ir_crop' not in out['inputs']


def test_pack_makes_photometric_float_output_uint8():
    results = pair_results()
    np.random.seed(3)
    results = TRANSFORMS.build(dict(type='mmdet.PhotoMetricDistortion'))(
        results)
    assert results['img'].dtype == np.float32  # what mmdet returns
    results['img'][0, 0] = (-3.2, 255.7, 100.4)
    out = PackFusionDetInputs()(results)
    vis = out['inputs']['vis']
    assert vis.dtype == torch.uint8
    assert vis[:, 0, 0].tolist() == [0, 255, 100]
    expected = np.clip(np.rint(results['img']), 0, 255).astype(np.uint8)
    torch.testing.assert_close(vis, torch.from_numpy(expected).permute(
        2, 0, 1))
