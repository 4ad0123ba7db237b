"""Train a TDFusion model (fusion network + learnable loss + task network).

Usage mirrors mmdet's ``tools/train.py``:

    python tools/train.py configs/tdfusion_yolo_m3fd.py \
        [--work-dir DIR] [--resume [CKPT]] [--amp] \
        [--cfg-options key=value ...] [--launcher pytorch] [--debug]

A work dir is locked while a run trains into it (``WORK_DIR/train.lock``):
a second run into it is refused. Errors in what the user gave (paths,
images, checkpoints) print one line; ``--debug`` (or ``TDFUSION_DEBUG=1``)
shows the traceback.
"""
import argparse
import os
import sys

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tdfusion_mm.utils import tune_malloc
from tdfusion_mm.utils.checkpoint import find_resume_checkpoint
from tdfusion_mm.utils.dist import close_distributed
from tdfusion_mm.utils.cli import (add_shared_args, load_runner_config,
                                   parse_runner_args)
from tdfusion_mm.utils.user_errors import run_tool
from tdfusion_mm.utils.work_dir_lock import WorkDirLock


def parse_args():
    parser = argparse.ArgumentParser(description='Train a TDFusion model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp', action='store_true',
        help='enable automatic mixed precision training (each optimizer)')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest '
        'checkpoint in the work dir if no path is given')
    add_shared_args(parser, 'cfg_options', 'launcher', 'local_rank',
                    'debug')
    return parse_runner_args(parser)


def use_amp(cfg: Config, cuda: bool) -> None:
    """Turn the optimizer wrappers of the config into mixed precision ones.

    On a GPU: mmengine's ``AmpOptimWrapper`` (float16 with dynamic loss
    scaling, unless the config sets another); on the CPU, which mmengine's
    refuses: ``BF16OptimWrapper`` (bfloat16 autocast, no scaling needed).
    G's wrapper stays as it is: G is stepped on its hypergradient, computed
    in float32 and set as its gradient, with no loss to scale.
    """
    wrappers = cfg.optim_wrapper
    if 'constructor' in wrappers and 'optimizer' not in wrappers:
        wrappers = [v for k, v in wrappers.items()
                    if k not in ('constructor', 'loss_generator')]
    else:
        wrappers = [wrappers]
    amp_types = ('AmpOptimWrapper', 'tdfusion_mm.BF16OptimWrapper')
    for wrapper in wrappers:
        if wrapper.get('type', 'OptimWrapper') in amp_types:
            continue
        if cuda:
            wrapper['type'] = 'AmpOptimWrapper'
            wrapper.setdefault('loss_scale', 'dynamic')
        else:
            wrapper['type'] = 'tdfusion_mm.BF16OptimWrapper'


def main():
    tune_malloc()
    args = parse_args()
    cfg = load_runner_config(args)
    if args.amp:
        use_amp(cfg, torch.cuda.is_available())
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    # Only the first process of a distributed run holds the lock.
    lead = os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0')) == '0'
    lock = WorkDirLock(cfg.work_dir) if lead else None
    if lock is not None:
        lock.acquire()
    try:
        if cfg.get('resume') and cfg.get('load_from') is None:
            cfg.load_from = find_resume_checkpoint(cfg.work_dir)
            cfg.resume = cfg.load_from is not None
        runner = Runner.from_cfg(cfg)
        runner.train()
    finally:
        if lock is not None:
            lock.release()
    close_distributed()


if __name__ == '__main__':
    sys.exit(run_tool(main))
