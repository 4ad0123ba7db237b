"""Shared fixtures: small demo data generated once per test session."""
import os
import os.path as osp
import sys

import pytest
import torch

from tdfusion_mm.testing import generate_demo_dataset
from tdfusion_mm.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tests/helpers.py
DEMO_CONFIG = osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py')

torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2)))
register_all_modules(init_default_scope=False)


@pytest.fixture(scope='session')
def demo_root(tmp_path_factory):
    """A small demo dataset (M3FD and MSRS layouts), 64x80 pixels, with the
    demo config's classes."""
    root = tmp_path_factory.mktemp('demo')
    generate_demo_dataset(str(root), num_train=6, num_test=4, height=64,
                          width=80, seed=3, classes=('People', 'Car'))
    return str(root)


@pytest.fixture
def demo_cfg(demo_root):
    """The demo config, reading the session's demo data."""
    from mmengine.config import Config
    cfg = Config.fromfile(DEMO_CONFIG)
    for dl in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        dl.dataset.data_root = f'{demo_root}/m3fd/'
    return cfg
