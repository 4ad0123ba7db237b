"""FusionVisualizationHook draws panels to the work dir and the backends."""
import copy
import glob
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.visualization import Visualizer

from tdfusion_mm.registry import DATASETS, HOOKS, MODELS


def test_hook_writes_panels(demo_cfg, tmp_path):
    init_default_scope('tdfusion_mm')
    cfg = copy.deepcopy(demo_cfg)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    batch = pseudo_collate([dataset[i] for i in range(3)])
    visualizer = Visualizer(
        name='fusion_hook_test', save_dir=str(tmp_path / 'vis_data'),
        vis_backends=[dict(type='LocalVisBackend')])
    runner = SimpleNamespace(
        model=model,
        val_loop=SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset)),
        visualizer=visualizer, log_dir=str(tmp_path), iter=0)

    hook = HOOKS.build(dict(type='FusionVisualizationHook', interval=2,
                            num_images=2))
    hook.before_train(runner)
    for runner.iter in range(4):  # draws after iterations 2 and 4
        hook.after_train_iter(runner, runner.iter)
    files = sorted(glob.glob(osp.join(str(tmp_path), 'fusion_panels', '*')))
    assert [osp.basename(f) for f in files] == ['iter_2.png', 'iter_4.png']
    height, width = batch['inputs']['ir'][0].shape[-2:]
    panel = cv2.imread(files[0])
    assert panel.shape == (2 * height, 4 * width, 3)
    backend_files = glob.glob(osp.join(str(tmp_path), 'vis_data', '**',
                                       'fusion_panel_4.png'), recursive=True)
    assert len(backend_files) == 1
    np.testing.assert_array_equal(cv2.imread(backend_files[0]),
                                  cv2.imread(files[1]))

    with pytest.raises(ValueError, match='interval'):
        HOOKS.build(dict(type='FusionVisualizationHook', interval=0))
    with pytest.raises(TypeError, match='TDFusion'):
        hook.before_train(SimpleNamespace(model=torch.nn.Linear(1, 1)))
