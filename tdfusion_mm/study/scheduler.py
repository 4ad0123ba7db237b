"""Running the study: each run is ``tools/train.py`` in a subprocess,
``--jobs`` at a time; a run with a final validation entry is done."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

from .design import REPO, WARM_RUN, run_dir
from .run_config import run_config


def final_metrics(work_dir: str) -> dict:
    """The last validation entry of the run's ``scalars.json``, with the
    run's wall time in ``seconds`` (from the start stamp of its log folder
    to the last write of the file)."""
    found = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if any(k.startswith('fusion/') for k in entry):
                    found = entry
                    stamp = osp.basename(osp.dirname(osp.dirname(path)))
                    started = time.mktime(
                        time.strptime(stamp, '%Y%m%d_%H%M%S'))
                    found['seconds'] = osp.getmtime(path) - started
    return found


def launch(task, variant, seed, args, threads):
    cfg_path = run_config(task, variant, seed, args)
    work_dir = osp.dirname(cfg_path)
    log = open(osp.join(work_dir, 'study_stdout.log'), 'w')
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    if args.device == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    proc = subprocess.Popen(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg_path,
         '--work-dir', work_dir], stdout=log, stderr=subprocess.STDOUT,
        env=env, cwd=REPO)
    return proc, log, time.time()


def run_queue(queue, args) -> None:
    """Run the (task, variant, seed) jobs, ``args.jobs`` at a time."""
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    running, failed = [], []
    while queue or running:
        while queue and len(running) < args.jobs:
            job = queue.pop(0)
            running.append((job, *launch(*job, args, threads)))
            print(f'started {job}', flush=True)
        time.sleep(2)
        for item in list(running):
            job, proc, log, start = item
            if proc.poll() is None:
                continue
            running.remove(item)
            log.close()
            print(f'finished {job}: exit {proc.returncode}, '
                  f'{time.time() - start:.0f} s', flush=True)
            if proc.returncode:
                failed.append(job)
    if failed:
        raise RuntimeError(f'runs failed: {failed}; see study_stdout.log in '
                           'their work dirs')


def run_all(args) -> None:
    """Stage 1 of every task, then the variants."""
    def todo(task, variant, seed):
        work_dir = run_dir(args, task, variant, seed)
        return not final_metrics(work_dir)

    run_queue([(t, WARM_RUN, 0) for t in args.tasks if todo(t, WARM_RUN, 0)],
              args)
    # Seed by seed, so that partial results compare the variants; the
    # frozen-T design (the one without T's training noise) first, the
    # paper's from-scratch setting (the longest runs) last.
    order = ('learned_frozen', 'fixed_frozen', 'learned', 'fixed',
             'infrared', 'visible')
    jobs = [(t, v, s) for s in args.seeds for t in args.tasks for v in order]
    jobs += [(t, 'learned_scratch', s) for s in args.seeds for t in args.tasks]
    run_queue([job for job in jobs
               if job[1] in args.variants and todo(*job)], args)
