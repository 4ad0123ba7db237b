"""A local file backend whose writes are atomic (for checkpoints)."""
import glob
import os
import os.path as osp
import re
from pathlib import Path
from typing import Union

import mmengine
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log

from tdfusion_mm.utils.checkpoint import CheckpointError

_TEMP_NAME = re.compile(r'\.tmp-(\d+)$')


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


def remove_stale_temp_files(folder: str) -> list:
    """Remove the ``*.tmp-<pid>`` files of writes whose process is gone.

    Returns:
        list[str]: The removed files.
    """
    removed = []
    for path in glob.glob(osp.join(glob.escape(folder), '*.tmp-*')):
        match = _TEMP_NAME.search(path)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or process_alive(pid):
            continue
        try:
            os.remove(path)
        except FileNotFoundError:
            continue
        removed.append(path)
    if removed:
        print_log(f'Removed {len(removed)} temporary file(s) left by an '
                  f'interrupted write: {removed}', logger='current')
    return removed


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """Write to a temporary file beside the target, then rename it.

    A process killed while saving leaves at most a stray ``*.tmp-<pid>`` file;
    the target path holds either its previous content or the complete new
    one, never a truncated checkpoint; a write that fails (a full disk)
    raises an error naming the file. The next write into the same folder
    removes the temporary files of processes that no longer run. Use it with
    ``default_hooks.checkpoint.backend_args=dict(backend='atomic_local')``.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = str(filepath)
        folder = osp.dirname(filepath) or '.'
        mmengine.mkdir_or_exist(folder)
        remove_stale_temp_files(folder)
        tmp = f'{filepath}.tmp-{os.getpid()}'
        try:
            with open(tmp, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except OSError as err:
            raise CheckpointError(
                f'cannot save {filepath}: {err.strerror or err} (it was not '
                'written; the files saved before are kept)') from err
        finally:
            if osp.exists(tmp):
                os.remove(tmp)
