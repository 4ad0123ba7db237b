"""glibc allocator settings for CPU runs with large temporaries."""
import ctypes
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def tune_malloc() -> bool:
    """Keep freed large blocks in glibc's heap instead of unmapping them.

    By default every temporary above 32 MB (most full-resolution feature
    maps) is a fresh ``mmap`` whose pages the kernel faults in and zeroes on
    first touch, so a forward pass spends more system than user time.
    Serving them from the heap, and not trimming it, makes full-resolution
    fusion faster; it costs memory: the process keeps its peak until it
    exits, and the heap fragments. All threads share the one heap: the
    threads that run row bands would otherwise each get an arena of their
    own, which glibc gives back to the kernel, so that every pass faulted
    its pages in again (0.04-0.6 s of system time per 480x640-1024x1280
    fusion). The measured figures are in ``docs/benchmark.md``.

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
    libc.mallopt(M_ARENA_MAX, 1)
    return True
