"""A second run into the work dir of a live run is refused; the lock of a
run that died is taken over."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest

from tdfusion_mm.utils import work_dir_lock
from tdfusion_mm.utils.work_dir_lock import WorkDirInUseError, WorkDirLock

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HOLD = ('import sys, time; sys.path.insert(0, {repo!r}); '
        'from tdfusion_mm.utils.work_dir_lock import WorkDirLock; '
        'lock = WorkDirLock({work!r}).acquire(); print("locked", flush=True); '
        'time.sleep(600)')


def hold_lock(work_dir):
    """A process that holds the lock of ``work_dir`` until killed."""
    proc = subprocess.Popen(
        [sys.executable, '-c', HOLD.format(repo=REPO, work=str(work_dir))],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'locked'
    return proc


def test_live_lock_refuses_and_dead_lock_is_taken_over(tmp_path,
                                                       monkeypatch):
    logged = []
    monkeypatch.setattr(work_dir_lock, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    holder = hold_lock(tmp_path)
    try:
        with pytest.raises(WorkDirInUseError,
                           match=f'pid {holder.pid} .*train.lock'):
            WorkDirLock(str(tmp_path)).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)  # dies holding the lock
        holder.wait()
    with WorkDirLock(str(tmp_path)) as lock:
        assert f'pid {os.getpid()} ' in open(lock.path).read()
        with pytest.raises(WorkDirInUseError):  # even in the same process
            WorkDirLock(str(tmp_path)).acquire()
    assert len(logged) == 1 and 'Taking over the lock' in logged[0] \
        and f'pid {holder.pid} ' in logged[0]
    assert open(lock.path).read() == ''  # released at a normal end
    WorkDirLock(str(tmp_path)).acquire().release()


def test_train_refuses_a_work_dir_in_use(tmp_path):
    holder = hold_lock(tmp_path)
    try:
        env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore')
        start = time.time()
        out = subprocess.run(
            [sys.executable, osp.join(REPO, 'tools', 'train.py'),
             osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py'),
             '--work-dir', str(tmp_path)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert out.returncode == 1, out.stderr[-2000:]
    assert f'live training run (pid {holder.pid}' in out.stderr
    assert 'Traceback' not in out.stderr
    assert time.time() - start < 120
    assert os.listdir(tmp_path) == ['train.lock']  # nothing else written
