"""TDFusion with mmseg segmentors as the task network."""
import copy
import os.path as osp

import pytest
import torch
from helpers import REPO, batches, build, changed, state
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope

from tdfusion_mm.registry import DATASETS, MODELS

SIZE = (64, 80)  # (h, w) of the demo fixture's images
TASK = (32, 40)  # (h, w): small task images keep the tests fast


def config(name, demo_root, crop=16):
    """A config on the demo fixture's MSRS layout, at small sizes."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    for dl in (cfg.train_dataloader, cfg.test_dataloader):
        dl.dataset.data_root = f'{demo_root}/msrs/'
        for t in dl.dataset.pipeline:
            if t.type == 'PairedTransform':
                t.transforms[0].scale = TASK[::-1]
            if t.type == 'RandomFusionCrop':
                t.crop_size = crop
    cfg.model.task_model.cfg_options.data_preprocessor.size = TASK
    return cfg


def test_segformer_trains_both_phases_and_scores_miou(demo_root):
    cfg = config('tdfusion_segformer_demo.py', demo_root)
    _, model, optim = build(cfg)
    train = batches(cfg, size=1)
    model.train()
    f_before, g_before, t_before = (state(model.fusion_backbone),
                                    state(model.loss_generator),
                                    state(model.task_model))
    log = model.train_step(dict(inner=train[0], outer=train[1]), optim)
    assert changed(g_before, model.loss_generator), 'G did not learn'
    assert not changed(f_before, model.fusion_backbone), 'F moved'
    assert not changed(t_before, model.task_model), 'T not restored'
    assert torch.isfinite(log['loss_task_meta']) and log['hypergrad_max'] > 0

    log = model.train_step(train[2], optim)
    assert changed(f_before, model.fusion_backbone), 'F did not learn'
    assert changed(t_before, model.task_model), 'T did not learn'
    assert 'decode.loss_ce' in log and torch.isfinite(log['loss_task'])

    test = batches(cfg, 'test', size=4)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    evaluator = Evaluator(copy.deepcopy(cfg.test_evaluator))
    evaluator.dataset_meta = dataset.metainfo
    model.eval()
    with torch.no_grad():
        for data in test:
            outputs = model.val_step(data)
            for sample in outputs:
                # Back at the original size, where the labels are.
                assert sample.pred_sem_seg.shape == SIZE
                assert sample.gt_sem_seg.shape == SIZE
            evaluator.process(outputs, data)
    metrics = evaluator.evaluate(len(dataset))
    assert 0 <= metrics['mIoU'] <= 100 and 0 < metrics['aAcc'] <= 100


def test_prediction_drops_the_batch_padding(demo_root, monkeypatch):
    """Logits of the padded columns must not reach the predicted map."""
    cfg = config('tdfusion_segformer_demo.py', demo_root)
    cfg.model.data_preprocessor.pad_size_divisor = 32  # 40 -> 64 columns
    _, model, _ = build(cfg)
    model.eval()
    task = model.task_model
    test = batches(cfg, 'test', size=2)

    def encode_decode(inputs, batch_img_metas):
        """Class 1 on the 24 padded columns, class 0 elsewhere, at 1/4."""
        logits = torch.zeros(inputs.shape[0], 9, TASK[0] // 4, 64 // 4)
        logits[:, 0, :, :TASK[1] // 4] = 1
        logits[:, 1, :, TASK[1] // 4:] = 1
        return task.decode_head.predict_by_feat(logits, batch_img_metas)

    monkeypatch.setattr(task, 'encode_decode', encode_decode)
    with torch.no_grad():
        outputs = model.val_step(test[0])
    assert outputs[0].padding_size == (0, 24, 0, 0)
    for sample in outputs:
        assert sample.pred_sem_seg.shape == SIZE
        assert (sample.pred_sem_seg.data == 0).all()
    # Without `padding_size`, the padded logits would leak into the map.
    sample = copy.deepcopy(outputs[0])
    sample.set_metainfo(dict(padding_size=(0, 0, 0, 0)))
    leaked = task.postprocess_result(
        encode_decode(torch.zeros(1, 3, *TASK), [sample.metainfo]),
        [sample])
    assert (leaked[0].pred_sem_seg.data == 1).any()


@pytest.mark.parametrize('name,backbone,num_classes,task_hw', [
    ('tdfusion_segformer_msrs.py', 'MixVisionTransformer', 9, (240, 320)),
    ('tdfusion_segformer_fmb.py', 'MixVisionTransformer', 15, (300, 400)),
    ('tdfusion_deeplabv3plus_msrs.py', 'ResNetV1c', 9, (240, 320)),
])
def test_segmentation_configs(name, backbone, num_classes, task_hw):
    """Paper sizes, no download, mmseg visualisation, built by config."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    resize = cfg.train_dataloader.dataset.pipeline[3].transforms[0]
    assert tuple(resize.scale) == task_hw[::-1]
    assert cfg.train_dataloader.dataset.pipeline[2].crop_size == (256, 256)
    assert [m.type for m in cfg.test_evaluator] == ['mmseg.IoUMetric',
                                                    'FusionMetric']
    assert cfg.default_hooks.visualization.type == \
        'mmseg.SegVisualizationHook'
    assert cfg.visualizer.type == 'mmseg.SegLocalVisualizer'
    init_default_scope('tdfusion_mm')
    task = MODELS.build(cfg.model).task_model
    assert type(task.backbone).__name__ == backbone
    assert task.decode_head.num_classes == num_classes
    init_cfgs = task.backbone.init_cfg
    if not isinstance(init_cfgs, list):
        init_cfgs = [init_cfgs]
    assert not any(c and c.get('type') == 'Pretrained' for c in init_cfgs)
    assert tuple(task.data_preprocessor.size) == task_hw


def test_deeplabv3plus_trains_both_phases(demo_root):
    """Another segmentor family, swapped in by its config alone."""
    cfg = config('tdfusion_deeplabv3plus_msrs.py', demo_root)
    _, model, optim = build(cfg)
    assert type(model.task_model.decode_head).__name__ == \
        'DepthwiseSeparableASPPHead'
    train = batches(cfg, size=1)
    model.train()
    g_before, t_before = state(model.loss_generator), state(model.task_model)
    model.train_step(dict(inner=train[0], outer=train[1]), optim)
    assert changed(g_before, model.loss_generator)
    assert not changed(t_before, model.task_model)
    log = model.train_step(train[2], optim)
    assert changed(t_before, model.task_model)
    assert torch.isfinite(log['loss_task']) and 'aux.loss_ce' in log
