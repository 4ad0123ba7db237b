"""The command-line options and config loading that the tools share."""
import argparse
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from .dist import init_cpu_distributed
from .setup_env import register_all_modules

# name -> (flags, argparse keywords); one help text per shared option.
SHARED_OPTIONS = dict(
    config=(('config', ), dict(help='config file')),
    checkpoint=(('checkpoint', ), dict(help='checkpoint file')),
    device=(('--device', ), dict(default='cpu', help='e.g. cpu, cuda:0')),
    cfg_options=(('--cfg-options', ),
                 dict(nargs='+', action=DictAction,
                      help='override settings of the config, key=value, '
                      'e.g. train_dataloader.dataset.data_root=data/M3FD')),
    float_range=(('--float-range', ),
                 dict(type=float, nargs=2, metavar=('LOW', 'HIGH'),
                      help='value range of float images (e.g. 0 1 or 0 255);'
                      ' float images are refused without it')),
    pred_score_thr=(('--pred-score-thr', ),
                    dict(type=float, default=0.3,
                         help='smallest score of a drawn box')),
    launcher=(('--launcher', ),
              dict(choices=['none', 'pytorch', 'slurm', 'mpi'],
                   default='none', help='job launcher')),
    local_rank=(('--local_rank', '--local-rank'), dict(type=int, default=0)),
    debug=(('--debug', ),
           dict(action='store_true',
                help='show the traceback of errors in the given files too')),
)


def add_shared_args(parser: argparse.ArgumentParser, *names: str) -> None:
    """Add the named arguments of :data:`SHARED_OPTIONS` to a parser (``debug``
    is read by :func:`run_tool`)."""
    for name in names:
        flags, kwargs = SHARED_OPTIONS[name]
        parser.add_argument(*flags, **kwargs)


def parse_runner_args(
        parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse a runner tool's command line; ``LOCAL_RANK`` defaults to
    ``--local-rank`` (older launchers pass the rank as an argument only)."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """A config with ``--cfg-options`` merged, our modules registered and
    its default scope (else ``tdfusion_mm``) current, for tools that build
    datasets or models without a Runner."""
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'tdfusion_mm'))
    return cfg


def load_runner_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` for a Runner, as mmdet's tools make it.

    Registers our modules, sets the launcher (joining a gloo group on a
    machine without CUDA), merges ``--cfg-options`` and sets the work dir:
    ``--work-dir``, else the config's, else ``./work_dirs/CONFIG_NAME``.
    """
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.launcher != 'none' and not torch.cuda.is_available():
        init_cpu_distributed(cfg)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg
