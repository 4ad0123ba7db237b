"""Evaluate a TDFusion model: the task network on fused images.

Usage mirrors mmdet's ``tools/test.py``:

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE.pkl]
        [--show-dir DIR] [--cfg-options key=value ...] [--launcher pytorch]
        [--debug]

Errors in what the user gave (paths, images, checkpoints) print one line;
``--debug`` (or ``TDFUSION_DEBUG=1``) shows the traceback.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

from tdfusion_mm.apis.fusion_inferencer import load_fusion_state
from tdfusion_mm.utils import tune_malloc
from tdfusion_mm.utils.checkpoint import check_state_fits
from tdfusion_mm.utils.dist import close_distributed
from tdfusion_mm.utils.cli import (add_shared_args, load_runner_config,
                                   parse_runner_args)
from tdfusion_mm.utils.model_wrappers import unwrap
from tdfusion_mm.utils.user_errors import UserError, run_tool


def parse_args():
    parser = argparse.ArgumentParser(description='Test a TDFusion model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the metrics')
    parser.add_argument(
        '--out', type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory (inside the work dir) where painted predictions on '
        'the fused images are saved')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    add_shared_args(parser, 'cfg_options', 'launcher', 'local_rank',
                    'debug')
    return parse_runner_args(parser)


def enable_visualization(cfg: Config, args) -> None:
    """Switch on the visualization hook (mmdet/mmseg style)."""
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise KeyError('--show/--show-dir need `default_hooks.visualization`'
                       ' in the config')
    hooks.visualization.draw = True
    if args.show:
        hooks.visualization.show = True
        hooks.visualization.wait_time = args.wait_time
    if args.show_dir:
        if hooks.visualization.type.endswith('SegVisualizationHook'):
            # mmseg's hook has no output folder: its visualizer saves the
            # pictures (in vis_data/vis_image/), as in mmseg's tools/test.py;
            # and it paints every `interval`-th batch only: paint them all.
            cfg.visualizer.save_dir = osp.join(cfg.work_dir, args.show_dir)
            hooks.visualization.interval = 1
        else:
            hooks.visualization.test_out_dir = args.show_dir


def check_checkpoint(runner: Runner, cfg: Config, args) -> None:
    """Refuse a checkpoint that does not fit the model.

    mmengine loads what fits and only warns about the rest, so a checkpoint
    of another model would be tested with random weights. T's keys may be
    missing when ``model.task_checkpoint`` gives T.
    """
    state = {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in load_fusion_state(args.checkpoint).items()
    }
    may_miss = 'task_model.' if cfg.model.get('task_checkpoint') else None
    try:
        check_state_fits(unwrap(runner.model).state_dict(), state,
                         f'checkpoint {args.checkpoint}',
                         f'the model of {args.config}', may_miss)
    except (KeyError, RuntimeError) as err:
        raise UserError(err.args[0]) from err


def main():
    tune_malloc()
    args = parse_args()
    cfg = load_runner_config(args)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    runner = Runner.from_cfg(cfg)
    check_checkpoint(runner, cfg, args)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out}')
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    runner.test()
    del runner  # DDP holds the process group: free it before the group
    close_distributed()


if __name__ == '__main__':
    sys.exit(run_tool(main))
