"""Atomic file writes: a temporary file beside the target, then a rename.

The temporary file of ``PATH`` is ``PATH.tmp-<pid>``: a reader of ``PATH``
sees its previous content or the complete new one, and a process killed
while writing leaves at most that file, which
:func:`remove_stale_temp_files` removes once the process is gone.
"""
import contextlib
import glob
import os
import os.path as osp
import re
from typing import Iterator, List

from mmengine.logging import print_log

__all__ = ['temp_path', 'atomic_write', 'remove_stale_temp_files']

_TEMP_SUFFIX = re.compile(r'\.tmp-(\d+)$')


def temp_path(path: str) -> str:
    """The temporary name of ``path`` for this process."""
    return f'{path}.tmp-{os.getpid()}'


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[str]:
    """Yield a temporary path to write; it replaces ``path`` when the block
    ends without an error, and is removed in any case otherwise::

        with atomic_write('out/a.txt') as tmp:
            with open(tmp, 'w') as f:
                f.write(text)
    """
    tmp = temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


def remove_stale_temp_files(folder: str) -> List[str]:
    """Remove the temporary files of ``folder`` whose process is gone.

    Returns:
        list[str]: The removed files.
    """
    removed = []
    for path in glob.glob(osp.join(glob.escape(folder), '*.tmp-*')):
        match = _TEMP_SUFFIX.search(path)
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
