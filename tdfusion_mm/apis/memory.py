"""How much memory a fusion needs, checked before it starts.

The peak of ReFusion's inference grows about linearly with the number of
pixels (its full-resolution feature maps of 16-64 channels). The
coefficients round up peaks measured on the CPU (float32, batch 1, no
graph, malloc tuning on, 2 threads, a warm-up and three fusions in one
process; ``docs/benchmark.md``). With row bands: 382 MB at 480x640, 1168 MB
at 1024x1280, 3751 MB at 2048x2048 and 4038 MB at 1024x4096 (bands have at
least 64 rows, so wide images have larger bands): at most 902 bytes per
pixel above the fixed part. On the whole image: 841 MB at 480x640 and
3296 MB at 1024x1280 (2318 bytes per pixel).
"""
import math
import os
from typing import Optional, Tuple

from tdfusion_mm.utils.user_errors import UserError

# Bytes of peak memory per pixel, and a fixed part (measured, see above).
BYTES_PER_PIXEL_BANDED = 950
BYTES_PER_PIXEL_WHOLE = 2500
FIXED_BYTES = 256 << 20

_GB = float(1 << 30)


def estimate_fusion_memory(size: Tuple[int, int], band_pixels: int) -> int:
    """Estimated peak memory (bytes) of fusing one (H, W) pair.

    Args:
        size (tuple[int, int]): (H, W).
        band_pixels (int): The network's ``band_pixels`` (0: whole image).
    """
    pixels = int(size[0]) * int(size[1])
    banded = band_pixels > 0 and pixels > band_pixels
    per_pixel = BYTES_PER_PIXEL_BANDED if banded else BYTES_PER_PIXEL_WHOLE
    return int(per_pixel * pixels + FIXED_BYTES)


def available_memory() -> Optional[int]:
    """Bytes available to this process: ``MemAvailable``, or less under a
    cgroup limit; None where unknown (not Linux)."""
    values = []
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    values.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        with open('/sys/fs/cgroup/memory.max') as f:
            limit = f.read().strip()
        with open('/sys/fs/cgroup/memory.current') as f:
            used = int(f.read().strip())
        if limit != 'max':
            values.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    return min(values) if values else None


def check_fusion_memory(size: Tuple[int, int], band_pixels: int,
                        name: str) -> None:
    """Refuse a pair whose fusion would need more memory than available.

    Raises:
        UserError: With the estimate, what is available and a size that
            fits.
    """
    available = available_memory()
    needed = estimate_fusion_memory(size, band_pixels)
    if available is None or needed <= available:
        return
    h, w = size
    scale = math.sqrt(max(available - FIXED_BYTES, 0) / (needed - FIXED_BYTES))
    fit = f'{int(h * scale)}x{int(w * scale)}'
    raise UserError(
        f'{name}: fusing {h}x{w} pixels needs about {needed / _GB:.1f} GB '
        f'(measured: {BYTES_PER_PIXEL_BANDED} bytes per pixel with row '
        f'bands), but {available / _GB:.1f} GB are available. Resize the '
        f'pair to at most about {fit} (H x W), or run where more memory is '
        'free (--no-memory-check tries anyway)')
