"""The downstream design: the task's stock network (``configs/downstream/``)
retrained on the fused images of each joint-design F, and scored on the
held-out split (``tools/fuse_split.py``, then
``tools/analysis_tools/compare_fusions.py``, seed by seed)."""
import csv
import os
import os.path as osp
import subprocess
import sys

from .design import REPO, TASKS, run_dir
from .generator_measure import last_checkpoint
from .splits import data_settings

# The joint design's variants, whose F the downstream design retrains on.
JOINT = ('fixed', 'learned')


def downstream_dir(args, task: str) -> str:
    return osp.join(args.work_dir, 'downstream', task)


def comparison_csv(args, task: str, seed: int) -> str:
    return osp.join(downstream_dir(args, task), f'seed{seed}',
                    'comparison.csv')


def tool_env(args, task: str, data: dict) -> dict:
    """The tools' environment: the device, and LLVIP's id files."""
    env = dict(os.environ)
    if args.device == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    if task == 'det':
        env.update(LLVIP_TRAIN_IDS=data['train'], LLVIP_TEST_IDS=data['val'])
    return env


def run_tool(command: list, env: dict, log: str) -> None:
    with open(log, 'w') as f:
        done = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT,
                              env=env, cwd=REPO)
    if done.returncode:
        raise RuntimeError(f'{command[1]} failed (exit {done.returncode}); '
                           f'see {log}')


def run_downstream(args) -> None:
    """For every task and seed whose joint runs have finished: fuse the
    train and held-out splits with each F, then train and test the stock
    network on each (same seed). Finished seeds are kept."""
    for task in args.tasks:
        data = data_settings(task, args)
        env = tool_env(args, task, data)
        for seed in args.seeds:
            out = comparison_csv(args, task, seed)
            checkpoints = {v: last_checkpoint(run_dir(args, task, v, seed))
                           for v in JOINT}
            if osp.exists(out) or None in checkpoints.values():
                continue
            roots = []
            for variant, checkpoint in checkpoints.items():
                fused = osp.join(downstream_dir(args, task), 'fused',
                                 f'{variant}_seed{seed}')
                if not osp.exists(osp.join(fused, 'fuse_split.json')):
                    os.makedirs(fused, exist_ok=True)
                    run_tool([
                        sys.executable,
                        osp.join(REPO, 'tools', 'fuse_split.py'),
                        osp.join(osp.dirname(checkpoint), 'run_config.py'),
                        '--checkpoint', checkpoint, '--out', fused,
                        '--splits', 'train', 'test', '--device',
                        args.device], env, f'{fused}.log')
                roots.append(f'{variant}={fused}/')
            os.makedirs(osp.dirname(out), exist_ok=True)
            run_tool([
                sys.executable,
                osp.join(REPO, 'tools', 'analysis_tools',
                         'compare_fusions.py'),
                osp.join(REPO, TASKS[task]['downstream']), '--roots', *roots,
                '--seeds', str(seed), '--metric', TASKS[task]['score_key'],
                '--source-root', data['root'] + '/', '--work-dir',
                osp.dirname(out)], env, osp.join(osp.dirname(out),
                                                 'compare.log'))
            print(f'downstream {task} seed {seed}: {out}', flush=True)


def downstream_scores(args) -> dict:
    """``(task, 'downstream_<variant>', seed) -> {score_key: value}`` from
    the finished seeds' tables."""
    table = {}
    for task in args.tasks:
        key = TASKS[task]['score_key']
        for seed in args.seeds:
            path = comparison_csv(args, task, seed)
            if not osp.exists(path):
                continue
            with open(path) as f:
                for row in csv.DictReader(f):
                    table[task, f'downstream_{row["images"]}', seed] = {
                        key: float(row[f'{key} seed {seed}'])}
    return table
