"""The command-line options and config loading the tools share."""
import argparse
import os
import os.path as osp
from types import SimpleNamespace

import pytest
from helpers import REPO
from mmengine.registry import DefaultScope

from tdfusion_mm.utils.cli import (SHARED_OPTIONS, add_shared_args,
                                   load_config, load_runner_config,
                                   parse_runner_args)

DEMO_CONFIG = osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py')


def test_shared_args_parse_as_each_tool_expects():
    parser = argparse.ArgumentParser()
    add_shared_args(parser, 'config', 'checkpoint', 'device', 'cfg_options',
                    'float_range', 'pred_score_thr', 'debug')
    args = parser.parse_args([
        'a.py', 'b.pth', '--cfg-options', 'model.inner_lr=0.5', 'x.y=[1,2]',
        '--float-range', '0', '255', '--debug'
    ])
    assert (args.config, args.checkpoint, args.device) == ('a.py', 'b.pth',
                                                           'cpu')
    assert args.cfg_options == {'model.inner_lr': 0.5, 'x.y': [1, 2]}
    assert args.float_range == [0.0, 255.0]
    assert args.pred_score_thr == 0.3 and args.debug
    with pytest.raises(KeyError):
        add_shared_args(parser, 'no_such_option')
    assert {'launcher', 'local_rank'} <= set(SHARED_OPTIONS)


def test_local_rank_argument_sets_the_environment(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    parser = argparse.ArgumentParser()
    add_shared_args(parser, 'launcher', 'local_rank')
    monkeypatch.setattr('sys.argv', ['train.py', '--local-rank', '3'])
    args = parse_runner_args(parser)
    assert args.launcher == 'none' and os.environ['LOCAL_RANK'] == '3'
    monkeypatch.setenv('LOCAL_RANK', '1')  # a launcher's value wins
    parse_runner_args(parser)
    assert os.environ['LOCAL_RANK'] == '1'


def test_load_config_merges_options_and_sets_the_scope():
    cfg = load_config(DEMO_CONFIG, {'model.inner_lr': 0.5})
    assert cfg.model.inner_lr == 0.5
    assert DefaultScope.get_current_instance().scope_name == \
        cfg.get('default_scope', 'tdfusion_mm')


def test_runner_config_work_dir_order():
    args = SimpleNamespace(config=DEMO_CONFIG, launcher='none',
                           cfg_options={'train_cfg.max_epochs': 3},
                           work_dir=None)
    cfg = load_runner_config(args)
    assert cfg.launcher == 'none' and cfg.train_cfg.max_epochs == 3
    assert cfg.work_dir == osp.join('./work_dirs', 'tdfusion_yolo_demo')
    args.cfg_options = {'work_dir': 'from_config'}
    assert load_runner_config(args).work_dir == 'from_config'
    args.work_dir = 'from_command_line'
    assert load_runner_config(args).work_dir == 'from_command_line'
