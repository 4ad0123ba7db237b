"""The atomic_local file backend: a checkpoint is complete or not there."""
import errno
import os

import pytest
from mmengine.fileio import get_file_backend

from tdfusion_mm.engine import use_checkpoint_io
from tdfusion_mm.utils.checkpoint import CheckpointError


@pytest.fixture(autouse=True)
def atomic_checkpoints():
    use_checkpoint_io()


def test_atomic_backend_never_truncates(tmp_path, monkeypatch):
    target = str(tmp_path / 'epoch_1.pth')
    backend = get_file_backend(target, backend_args=dict(backend='atomic_local'))
    backend.put(b'good checkpoint', target)
    assert open(target, 'rb').read() == b'good checkpoint'

    def killed(fd):
        raise KeyboardInterrupt('killed while saving')

    monkeypatch.setattr(os, 'fsync', killed)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'new but never finished', target)
    assert open(target, 'rb').read() == b'good checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no stray temp file


def test_failed_write_names_the_file_and_keeps_the_previous(tmp_path,
                                                           monkeypatch):
    target = str(tmp_path / 'epoch_1.pth')
    backend = get_file_backend(target,
                               backend_args=dict(backend='atomic_local'))
    backend.put(b'good checkpoint', target)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, 'fsync', disk_full)
    with pytest.raises(CheckpointError) as info:  # one line in the tools
        backend.put(b'new checkpoint', target)
    assert str(info.value).startswith(
        f'cannot save {target}: No space left on device'), str(info.value)
    assert open(target, 'rb').read() == b'good checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth']
