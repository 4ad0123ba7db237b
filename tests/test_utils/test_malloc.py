"""tune_malloc: glibc settings, switched off by the environment."""
import subprocess
import sys

import pytest

from tdfusion_mm.utils import tune_malloc


def test_environment_switch_keeps_glibc_defaults(monkeypatch):
    monkeypatch.setenv('TDFUSION_MALLOC_TUNING', '0')
    assert tune_malloc() is False


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='glibc only')
def test_applied_on_glibc():
    # In a fresh process: the settings last for the process.
    out = subprocess.run(
        [sys.executable, '-c',
         'from tdfusion_mm.utils import tune_malloc; print(tune_malloc())'],
        capture_output=True, text=True, timeout=120,
        env={'PATH': '', 'PYTHONPATH': ':'.join(sys.path)})
    assert out.stdout.strip() == 'True', out.stderr[-2000:]
