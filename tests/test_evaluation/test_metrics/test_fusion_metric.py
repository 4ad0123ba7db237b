"""FusionMetric in mmengine's Evaluator, alone and beside mmdet's metrics."""
import copy

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData

from tdfusion_mm.evaluation import FusionMetric, fusion_metrics
from tdfusion_mm.registry import METRICS


def fake_sample(seed, height=40, width=48):
    """A data sample with a fused luma, and its packed sources."""
    gen = torch.Generator().manual_seed(seed)
    ir = torch.randint(0, 256, (1, height, width), generator=gen,
                       dtype=torch.uint8)
    vis = torch.randint(0, 256, (3, height, width), generator=gen,
                        dtype=torch.uint8)
    fused = torch.rand(1, height, width, generator=gen)
    sample = DetDataSample(metainfo=dict(img_path=f'{seed}.png'))
    sample.pred_fusion = PixelData(luma=fused)
    return sample, ir, vis


def expected_metrics(sample, ir, vis, **kwargs):
    import cv2
    fused8 = np.rint(sample.pred_fusion.luma[0].numpy() * 255).astype(
        np.uint8)
    vis_y = cv2.cvtColor(vis.numpy().transpose(1, 2, 0),
                         cv2.COLOR_BGR2YCrCb)[..., 0]
    return fusion_metrics(fused8, ir[0].numpy(), vis_y, **kwargs)


def test_fusion_metric_in_evaluator():
    evaluator = Evaluator([
        METRICS.build(dict(type='FusionMetric')),
        METRICS.build(
            dict(type='FusionMetric', metrics=['VIF', 'SSIM'],
                 reduce='sum', prefix='sum')),
    ])
    triples = [fake_sample(seed) for seed in range(3)]
    for batch in (triples[:2], triples[2:]):
        samples, irs, viss = zip(*batch)
        evaluator.process(
            data_samples=list(samples),
            data_batch=dict(inputs=dict(ir=list(irs), vis=list(viss)),
                            data_samples=list(samples)))
    results = evaluator.evaluate(3)
    expected = [expected_metrics(*t) for t in triples]
    for name in ('EN', 'MI', 'VIF', 'Qabf', 'SSIM', 'PSNR'):
        assert results[f'fusion/{name}'] == pytest.approx(
            np.mean([e[name] for e in expected]), rel=1e-9)
    assert set(k for k in results if k.startswith('sum/')) == \
        {'sum/VIF', 'sum/SSIM'}
    assert results['sum/VIF'] == pytest.approx(2 * results['fusion/VIF'])


def test_fusion_metric_errors():
    with pytest.raises(KeyError, match='unknown'):
        FusionMetric(metrics=['EN', 'FMI'])
    with pytest.raises(ValueError, match='reduce'):
        FusionMetric(reduce='max')
    metric = FusionMetric()
    sample, ir, vis = fake_sample(0)
    batch = dict(inputs=dict(ir=[ir], vis=[vis]))
    with pytest.raises(KeyError, match='pred_fusion'):
        metric.process(batch, [DetDataSample().to_dict()])
    with pytest.raises(KeyError, match='sources'):
        metric.process(dict(inputs=ir[None]), [sample.to_dict()])
    small = copy.deepcopy(sample)
    small.pred_fusion = PixelData(luma=sample.pred_fusion.luma[:, :-1])
    with pytest.raises(ValueError, match='differ in size'):
        metric.process(batch, [small.to_dict()])


def test_fusion_metric_beside_task_metrics_in_one_run(demo_cfg, tmp_path):
    """tools/test.py's runner: mmdet's metrics and ours in one test run."""
    from mmengine.runner import Runner
    cfg = copy.deepcopy(demo_cfg)
    cfg.work_dir = str(tmp_path)
    # Batches padded from 96x128 to 128x128: predict must cut the padding
    # off the fused luma, or the metric finds sizes that differ.
    cfg.model.data_preprocessor.pad_size_divisor = 128
    # The dataset configs test with the task's metrics and FusionMetric.
    assert cfg.test_evaluator[-1] == dict(type='FusionMetric')
    torch.manual_seed(0)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert 'pascal_voc/mAP' in metrics
    assert 0 < metrics['fusion/EN'] <= 8
    assert 0 < metrics['fusion/SSIM'] <= 1
