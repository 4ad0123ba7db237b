"""Shared fixtures: small demo data generated once per test session."""
import os
import os.path as osp
import subprocess
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


@pytest.fixture(scope='session')
def trained_tool_runs(demo_root, tmp_path_factory):
    """tools/train.py, one short epoch each, of the paper's detection config
    (configs/tdfusion_yolo_m3fd.py) and segmentation config
    (tdfusion_segformer_msrs.py) on the demo data; the two runs start
    together, one thread each. Each work dir starts with the temporary file
    of a killed process's checkpoint write (``*.tmp-<pid>``). Per layout:
    work dir, --cfg-options, log."""
    from helpers import demo_data_options, finish_tool, start_tool
    options = {
        'm3fd': [
            'train_cfg.max_epochs=1', 'train_cfg.meta_steps=2',
            'train_cfg.generator_movement=0.5',
            'default_hooks.logger.interval=1',
            # Small fusion crops keep the test fast (the config's are 256).
            'train_dataloader.dataset.pipeline.2.crop_size=[48,48]',
            # After so little training, keep every detection so that the
            # metrics have something to score.
            'model.task_model.cfg_options.test_cfg.score_thr=0.0',
        ],
        'msrs': [
            'train_dataloader.batch_size=2', 'test_dataloader.batch_size=2',
            'train_cfg.max_epochs=1', 'train_cfg.meta_steps=1',
            'train_cfg.val_begin=2',  # no validation: test.py evaluates
            'default_hooks.logger.interval=1',
            # Small sizes instead of the paper's 240x320 and 256.
            'train_dataloader.dataset.pipeline.2.crop_size=[16,16]',
            'train_dataloader.dataset.pipeline.3.transforms.0.scale=[40,32]',
            'test_dataloader.dataset.pipeline.1.transforms.0.scale=[40,32]',
            'model.task_model.cfg_options.data_preprocessor.size=[32,40]',
        ],
    }
    configs = dict(m3fd='tdfusion_yolo_m3fd.py',
                   msrs='tdfusion_segformer_msrs.py')
    runs = {}
    for layout, config in configs.items():
        work_dir = str(tmp_path_factory.mktemp(f'work_{layout}'))
        dead = subprocess.Popen([sys.executable, '-c', 'pass'])
        dead.wait()
        open(osp.join(work_dir, f'epoch_0.pth.tmp-{dead.pid}'), 'w').close()
        options[layout] = demo_data_options(
            f'{demo_root}/{layout}/') + options[layout]
        runs[layout] = (work_dir, start_tool(
            [osp.join(REPO, 'tools', 'train.py'),
             osp.join(REPO, 'configs', config), '--work-dir', work_dir,
             '--cfg-options'] + options[layout], threads=1))
    return {layout: (work_dir, options[layout], finish_tool(tool))
            for layout, (work_dir, tool) in runs.items()}
