"""SIGTERM and SIGINT end a training run with a log line, release the lock
and name the last complete checkpoint."""
import os
import os.path as osp
import signal
import time

import pytest
from helpers import REPO, finish_tool, start_tool

from tdfusion_mm.utils.checkpoint import checkpoint_is_valid
from tdfusion_mm.utils.stop_signals import RunStopped, stop_on_signals


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_raises_in_the_block_only(signum):
    before = signal.getsignal(signum)
    with pytest.raises(RunStopped) as info:
        with stop_on_signals():
            os.kill(os.getpid(), signum)
            time.sleep(1)  # the handler runs before this returns
    assert info.value.signum == signum
    assert info.value.name == signal.Signals(signum).name
    assert signal.getsignal(signum) is before


def test_forked_children_keep_the_previous_handlers():
    """A metric's process pool forks inside the block: its workers die on
    SIGTERM as before (Pool.terminate relies on it)."""
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals():
        pid = os.fork()
        if pid == 0:  # the child
            os._exit(0 if signal.getsignal(signal.SIGTERM) is before else 1)
        assert os.waitpid(pid, 0)[1] == 0
        assert signal.getsignal(signal.SIGTERM) is not before


def test_sigterm_in_the_meta_phase_ends_the_run_cleanly(demo_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    root = f'{demo_root}/m3fd/'
    proc = start_tool([
        osp.join(REPO, 'tools', 'train.py'),
        osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py'), '--work-dir',
        work_dir, '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}', 'train_cfg.max_epochs=1',
        'train_cfg.meta_steps=50', 'train_dataloader.batch_size=2',
        'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.checkpoint.interval=1'
    ], threads=1)
    first = osp.join(work_dir, 'iter_1.pth')
    deadline = time.time() + 600
    while not osp.exists(first) and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out = finish_tool(proc, expect_ok=False)
    assert proc.returncode == 128 + signal.SIGTERM, out[-2000:]
    assert 'Traceback' not in out, out[-3000:]
    stopped = [line for line in out.splitlines()
               if 'Training stopped by SIGTERM after ' in line]
    assert len(stopped) == 1, out[-2000:]
    last = open(osp.join(work_dir, 'last_checkpoint')).read()
    assert checkpoint_is_valid(last) and last in stopped[0], (last, stopped)
    assert open(osp.join(work_dir, 'train.lock')).read() == ''  # released
    assert not [f for f in os.listdir(work_dir) if '.tmp-' in f]
