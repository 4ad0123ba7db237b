"""The command line that ``tools/train.py`` and ``tools/test.py`` share."""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction

from .dist import init_cpu_distributed
from .setup_env import register_all_modules


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--cfg-options``, ``--launcher``, ``--local-rank`` and
    ``--debug`` (read by :func:`run_tool`) to a tool's parser."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value, e.g. '
        'train_dataloader.dataset.data_root=data/M3FD')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--debug', action='store_true',
        help='show the traceback of errors in the given files too')


def parse_runner_args(
        parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; ``LOCAL_RANK`` defaults to ``--local-rank``
    (older launchers pass the rank as an argument only)."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


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
