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


def _format_each_config_text_once():
    """mmengine formats a config with yapf whenever a Runner logs, dumps or
    stores it: six times per train and test, about 1 s each for a stock
    mmdet config. The result depends only on the text and the style, and
    the tests build many Runners in this process: format each text once."""
    import mmengine.config.config as config_module
    format_code = config_module.FormatCode
    cache = {}

    def formatted(text, style_config=None, **kwargs):
        key = (text, repr(style_config), repr(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = format_code(text, style_config=style_config,
                                     **kwargs)
        return cache[key]

    config_module.FormatCode = formatted


_format_each_config_text_once()


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
