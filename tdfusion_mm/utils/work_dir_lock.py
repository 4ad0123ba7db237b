"""One training run per work dir: a lock file holding the run's pid."""
import fcntl
import os
import os.path as osp
import socket

from mmengine.logging import print_log

LOCK_NAME = 'train.lock'


class WorkDirInUseError(OSError):
    """Another live run trains into the work dir."""


class WorkDirLock:
    """An exclusive lock of a work dir, held until the process ends.

    ``work_dir/train.lock`` is locked with ``flock`` (the kernel releases it
    when the process dies, even by ``kill -9``) and holds the pid and host
    of its holder. A second run into the same work dir is refused while the
    first runs; a lock file left by a run that died is taken over (and
    said so). Dataloader worker processes inherit the lock: a run counts as
    live until they have exited too.

    Args:
        work_dir (str): The work dir (created if missing).
    """

    def __init__(self, work_dir: str):
        self.path = osp.join(work_dir, LOCK_NAME)
        self._file = None

    def acquire(self) -> 'WorkDirLock':
        """Take the lock.

        Raises:
            WorkDirInUseError: If a live run holds it.
        """
        os.makedirs(osp.dirname(self.path) or '.', exist_ok=True)
        handle = open(self.path, 'a+')
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or 'unknown pid'
            handle.close()
            raise WorkDirInUseError(
                f'{osp.dirname(self.path)} is the work dir of a live '
                f'training run ({holder}; lock file {self.path}): give this '
                'run another --work-dir, or stop that run first') from None
        handle.seek(0)
        previous = handle.read().strip()
        if previous:
            print_log(f'Taking over the lock {self.path} of a run that '
                      f'ended without releasing it ({previous})',
                      logger='current', level=30)
        handle.seek(0)
        handle.truncate()
        handle.write(f'pid {os.getpid()} on {socket.gethostname()}\n')
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        """Empty the lock file (a run that ended normally) and unlock it."""
        if self._file is None:
            return
        self._file.seek(0)
        self._file.truncate()
        self._file.close()
        self._file = None

    def __enter__(self) -> 'WorkDirLock':
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()
