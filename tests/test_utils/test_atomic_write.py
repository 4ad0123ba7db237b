"""Atomic writes: the target holds its old content or the complete new one,
and no temporary file stays behind."""
import os
import subprocess
import sys

import pytest

from tdfusion_mm.utils.atomic_write import (atomic_write,
                                            remove_stale_temp_files,
                                            temp_path)


def test_the_temporary_file_replaces_the_target(tmp_path):
    target = tmp_path / 'a.txt'
    target.write_text('old')
    with atomic_write(str(target)) as tmp:
        assert tmp == temp_path(str(target))
        assert os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, 'w') as f:
            f.write('new')
        assert target.read_text() == 'old'  # not yet replaced
    assert target.read_text() == 'new'
    assert os.listdir(tmp_path) == ['a.txt']


def test_an_error_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / 'a.txt'
    target.write_text('old')
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(str(target)) as tmp:
            with open(tmp, 'w') as f:
                f.write('half')
            raise KeyboardInterrupt('killed while writing')
    assert target.read_text() == 'old'
    assert os.listdir(tmp_path) == ['a.txt']
    with pytest.raises(ValueError):  # nothing written yet
        with atomic_write(str(tmp_path / 'b.txt')):
            raise ValueError
    assert os.listdir(tmp_path) == ['a.txt']


def test_a_failed_rename_leaves_no_temporary(tmp_path):
    (tmp_path / 'folder').mkdir()
    with pytest.raises(OSError):
        with atomic_write(str(tmp_path / 'folder')) as tmp:
            with open(tmp, 'w') as f:
                f.write('data')
    assert os.listdir(tmp_path) == ['folder']


def test_stale_temporaries_of_gone_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    stale = tmp_path / f'a.pth.tmp-{dead.pid}'
    live = tmp_path / f'a.pth.tmp-{os.getppid()}'  # a running process
    own = tmp_path / temp_path('b.pth')
    other = tmp_path / 'notes.tmp-x'
    for path in (stale, live, own, other):
        path.write_bytes(b'')
    assert remove_stale_temp_files(str(tmp_path)) == [str(stale)]
    assert sorted(os.listdir(tmp_path)) == sorted(
        p.name for p in (live, own, other))
