"""A local file backend whose writes are atomic (for checkpoints)."""
import os
import os.path as osp
from pathlib import Path
from typing import Union

import mmengine
from mmengine.fileio import LocalBackend, register_backend

from tdfusion_mm.utils.atomic_write import (atomic_write,
                                            remove_stale_temp_files)
from tdfusion_mm.utils.checkpoint import (CheckpointError,
                                          use_checked_checkpoint_loader)


class AtomicLocalBackend(LocalBackend):
    """Write to a temporary file beside the target, then rename it.

    A process killed while saving leaves at most a stray ``*.tmp-<pid>`` file;
    the target path holds either its previous content or the complete new
    one, never a truncated checkpoint; a write that fails (a full disk)
    raises an error naming the file. The next write into the same folder
    removes the temporary files of processes that no longer run. Use it with
    ``default_hooks.checkpoint.backend_args=dict(backend='atomic_local')``
    after :func:`use_checkpoint_io`.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = str(filepath)
        folder = osp.dirname(filepath) or '.'
        mmengine.mkdir_or_exist(folder)
        remove_stale_temp_files(folder)
        try:
            with atomic_write(filepath) as tmp:
                with open(tmp, 'wb') as f:
                    f.write(obj)
                    f.flush()
                    os.fsync(f.fileno())
        except OSError as err:
            raise CheckpointError(
                f'cannot save {filepath}: {err.strerror or err} (it was not '
                'written; the files saved before are kept)') from err


def use_checkpoint_io() -> None:
    """Make mmengine save checkpoints atomically and load them with errors
    naming the file: register :class:`AtomicLocalBackend` as its
    ``atomic_local`` file backend and
    :func:`~tdfusion_mm.utils.checkpoint.load_from_local` as its loader of
    local files. Importing tdfusion_mm changes neither: this call does, for
    the whole process; calling it again changes nothing more."""
    register_backend('atomic_local', AtomicLocalBackend, force=True)
    use_checked_checkpoint_loader()
