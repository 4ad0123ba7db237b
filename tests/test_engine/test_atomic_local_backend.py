"""The atomic_local file backend: a checkpoint is complete or not there."""
import os

import pytest
from mmengine.fileio import get_file_backend


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
