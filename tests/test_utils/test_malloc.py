"""tune_malloc: glibc settings, switched off by the environment."""
from types import SimpleNamespace

from tdfusion_mm.utils import malloc, tune_malloc


def test_environment_switch_keeps_glibc_defaults(monkeypatch):
    monkeypatch.setenv('TDFUSION_MALLOC_TUNING', '0')
    assert tune_malloc() is False


def test_settings_given_to_glibc(monkeypatch):
    monkeypatch.delenv('TDFUSION_MALLOC_TUNING', raising=False)
    calls = []
    libc = SimpleNamespace(mallopt=lambda *args: calls.append(args))
    monkeypatch.setattr(malloc.ctypes, 'CDLL', lambda name: libc)
    assert tune_malloc() is True
    assert calls == [(malloc.M_MMAP_THRESHOLD, 1 << 30),
                     (malloc.M_TRIM_THRESHOLD, 1 << 31),
                     (malloc.M_ARENA_MAX, 1)]


def test_without_glibc_nothing_is_applied(monkeypatch):
    monkeypatch.delenv('TDFUSION_MALLOC_TUNING', raising=False)

    def no_glibc(name):
        raise OSError(f'{name}: cannot open shared object file')

    monkeypatch.setattr(malloc.ctypes, 'CDLL', no_glibc)
    assert tune_malloc() is False
