"""Any fusion network F goes through the same loop: the light network's
configs, and an F registered by the user (the "bring your own F"
interface: ``forward(ir, vis)`` -> fused luma in [0, 1])."""
import os.path as osp

import pytest
import torch
from helpers import REPO, changed, state
from mmengine.config import Config
from mmengine.runner import Runner
from torch import nn

from tdfusion_mm.registry import MODELS


class UserFusion(nn.Module):
    """A user's F: one 3x3 convolution of the stacked pair, a sigmoid."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 3, padding=1)

    def forward(self, ir, vis_y):
        return torch.sigmoid(self.conv(torch.cat([ir, vis_y], 1)))


def one_epoch(cfg, demo_root, work_dir):
    """Train ``cfg`` (a demo config) one epoch of two meta pairs and one
    pass; returns the runner and F's and G's states before."""
    for dl in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        dl.dataset.data_root = f'{demo_root}/m3fd/'
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.meta_steps = 2
    cfg.train_cfg.val_interval = 2  # no validation
    cfg.train_dataloader.batch_size = 3
    cfg.default_hooks.checkpoint.interval = 1
    runner = Runner.from_cfg(cfg)
    before = (state(runner.model.fusion_backbone),
              state(runner.model.loss_generator))
    runner.train()
    return runner, before


def check_trained(runner, before):
    f_before, g_before = before
    assert changed(f_before, runner.model.fusion_backbone), 'F did not learn'
    assert changed(g_before, runner.model.loss_generator), 'G did not learn'
    assert not any(w.nonfinite_skips for w in runner.optim_wrapper.values())


def test_light_network_config_meta_trains(demo_root, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'tdfusion_gdf_yolo_demo.py'))
    assert cfg.model.fusion_backbone == dict(type='GradientDenseFusion')
    runner, before = one_epoch(cfg, demo_root, tmp_path)
    assert type(runner.model.fusion_backbone).__name__ == \
        'GradientDenseFusion'
    check_trained(runner, before)


@pytest.mark.parametrize('hessian_vector', ['exact', 'finite_difference'])
def test_a_user_registered_fusion_network_meta_trains(demo_root, tmp_path,
                                                      hessian_vector):
    MODELS.register_module(module=UserFusion, force=True)
    try:
        cfg = Config.fromfile(osp.join(REPO, 'configs',
                                       'tdfusion_yolo_demo.py'))
        cfg.model.fusion_backbone = dict(type='UserFusion')
        cfg.model.hessian_vector = hessian_vector
        runner, before = one_epoch(cfg, demo_root, tmp_path)
    finally:
        MODELS._module_dict.pop('UserFusion', None)
    assert type(runner.model.fusion_backbone) is UserFusion
    check_trained(runner, before)
