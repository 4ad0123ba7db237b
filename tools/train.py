"""Train a TDFusion model (fusion network + learnable loss + task network).

Usage mirrors mmdet's ``tools/train.py``:

    python tools/train.py configs/tdfusion_yolo_m3fd.py \
        [--work-dir DIR] [--resume [CKPT]] [--amp] \
        [--cfg-options key=value ...] [--launcher pytorch] [--debug]

A work dir is locked while a run trains into it (``WORK_DIR/train.lock``):
a second run into it is refused. SIGTERM or SIGINT ends a run with a log
line, releases the lock and names the last complete checkpoint in
``WORK_DIR/last_checkpoint`` (exit code 128 + the signal). Errors in what
the user gave (paths, images, labels, checkpoints) print one line; ``--debug`` (or ``TDFUSION_DEBUG=1``)
shows the traceback.
"""
import argparse
import logging
import os
import sys

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from tdfusion_mm.utils import tune_malloc
from tdfusion_mm.utils.checkpoint import (find_resume_checkpoint,
                                          record_last_checkpoint)
from tdfusion_mm.utils.dist import close_distributed
from tdfusion_mm.utils.cli import (add_shared_args, load_runner_config,
                                   parse_runner_args)
from tdfusion_mm.utils.stop_signals import RunStopped, stop_on_signals
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

    On a GPU: ``NonFiniteSkipAmpOptimWrapper`` (mmengine's
    ``AmpOptimWrapper``, float16 with dynamic loss scaling unless the config
    sets another, skipping non-finite losses); on the CPU, which mmengine's
    refuses: ``BF16OptimWrapper`` (bfloat16 autocast, no scaling needed).
    G's wrapper stays as it is: G is stepped on its hypergradient, computed
    in float32 and set as its gradient, with no loss to scale.
    """
    wrappers = cfg.optim_wrapper
    if 'constructor' in wrappers and 'optimizer' not in wrappers:
        wrappers = [v for k, v in wrappers.items()
                    if k not in ('constructor', 'loss_generator')
                    and v is not None]
    else:
        wrappers = [wrappers]
    amp_types = ('AmpOptimWrapper', 'tdfusion_mm.NonFiniteSkipAmpOptimWrapper',
                 'tdfusion_mm.BF16OptimWrapper')
    for wrapper in wrappers:
        if wrapper.get('type', 'OptimWrapper') in amp_types:
            continue
        if cuda:
            wrapper['type'] = 'tdfusion_mm.NonFiniteSkipAmpOptimWrapper'
            wrapper.setdefault('loss_scale', 'dynamic')
        else:
            wrapper['type'] = 'tdfusion_mm.BF16OptimWrapper'


def report_stop(stop: RunStopped, runner, work_dir: str) -> int:
    """Log that a stop signal ended the run, name its last complete
    checkpoint in ``last_checkpoint``; the exit code (128 + signal)."""
    done = f' after {runner.iter} iteration(s)' if runner is not None else ''
    last = record_last_checkpoint(work_dir)
    kept = (f'the last complete checkpoint, {last}, is named in '
            f'{work_dir}/last_checkpoint (--resume continues from it)'
            if last else 'no checkpoint was saved')
    print_log(f'Training stopped by {stop.name}{done}: {kept}',
              logger='current', level=logging.WARNING)
    return 128 + stop.signum


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
    runner = None
    try:
        with stop_on_signals():
            if lock is not None:
                lock.acquire()
            if cfg.get('resume') and cfg.get('load_from') is None:
                cfg.load_from = find_resume_checkpoint(cfg.work_dir)
                cfg.resume = cfg.load_from is not None
            runner = Runner.from_cfg(cfg)
            runner.train()
    except RunStopped as stop:
        if not lead:
            return 128 + stop.signum
        return report_stop(stop, runner, cfg.work_dir)
    finally:
        if lock is not None:
            lock.release()
    del runner  # DDP holds the process group: free it before the group
    close_distributed()


if __name__ == '__main__':
    sys.exit(run_tool(main))
