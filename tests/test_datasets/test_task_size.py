"""at_task_size: the dataset configs' pipelines at their task size."""
import os.path as osp

import pytest
from mmengine.config import Config

from tdfusion_mm.datasets.task_size import at_task_size

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_sets_resize_and_pad_inside_wrappers_on_a_copy():
    pipeline = [
        dict(type='LoadIrVisFromFile'),
        dict(type='PairedTransform', transforms=[
            dict(type='mmdet.Resize', scale=None, keep_ratio=True),
            dict(type='mmdet.RandomFlip', prob=0.5),
            dict(type='mmdet.Pad', size=None, pad_val=dict(img=0)),
        ]),
        dict(type='mmseg.RandomResize', scale=(640, 480)),
    ]
    sized = at_task_size(pipeline, [320, 256])
    inner = sized[1]['transforms']
    assert inner[0]['scale'] == (320, 256)
    assert inner[2]['size'] == (320, 256)
    assert 'scale' not in inner[1] and 'size' not in inner[1]
    # Only Resize and Pad by name: RandomResize keeps its own scale.
    assert sized[2]['scale'] == (640, 480)
    # The shared pipeline itself is left open.
    assert pipeline[1]['transforms'][0]['scale'] is None


def test_a_pipeline_without_resize_is_an_error():
    with pytest.raises(ValueError, match='no Resize.*LoadIrVisFromFile'):
        at_task_size([dict(type='LoadIrVisFromFile')], (64, 64))


@pytest.mark.parametrize('config, size', [
    ('_base_/datasets/msrs_segmentation.py', (320, 240)),
    ('_base_/datasets/fmb_segmentation.py', (400, 300)),
    ('_base_/datasets/m3fd_detection.py', (256, 192)),
    ('_base_/datasets/llvip_detection.py', (320, 256)),
    ('tdfusion_yolo_demo.py', (128, 96)),
])
def test_dataset_configs_resize_to_their_task_size(config, size):
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    for loader in ('train_dataloader', 'val_dataloader'):
        transforms, = (t.transforms for t in cfg[loader].dataset.pipeline
                       if t.type == 'PairedTransform')
        sizes = {t.get('scale', t.get('size')) for t in transforms
                 if t.type.endswith(('Resize', 'Pad'))}
        assert sizes == {size}, (loader, transforms)
