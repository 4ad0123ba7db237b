"""glibc allocator settings for CPU runs with large temporaries."""
import ctypes
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def tune_malloc() -> bool:
    """Keep freed large blocks in glibc's heap instead of unmapping them.

    By default every temporary above 32 MB (most full-resolution feature
    maps) is a fresh ``mmap`` whose pages the kernel faults in and zeroes on
    first touch, so a forward pass spends more system than user time.
    Serving them from the heap, and not trimming it, makes full-resolution
    fusion faster; it costs memory: the process keeps its peak until it
    exits, and the heap fragments. The measured figures are in
    ``docs/benchmark.md``.

    Set ``TDFUSION_MALLOC_TUNING=0`` to keep glibc's defaults.

    Returns:
        bool: Whether the settings were applied (glibc only).
    """
    if os.environ.get('TDFUSION_MALLOC_TUNING', '1') == '0':
        return False
    try:
        libc = ctypes.CDLL('libc.so.6')
    except OSError:
        return False
    libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)
    libc.mallopt(M_TRIM_THRESHOLD, 1 << 31)
    return True
