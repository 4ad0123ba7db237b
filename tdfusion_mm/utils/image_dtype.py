"""Image dtypes and the [0, 1] scale, in one place: ``uint8`` / 255,
``uint16`` / 65535, and back to 8 bits."""
import numpy as np

__all__ = ['UNIT_SCALES', 'int_to_unit', 'to_unit_clipped', 'unit_to_uint8',
           'to_uint8']

# The divisor that maps an integer image to [0, 1].
UNIT_SCALES = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def int_to_unit(img: np.ndarray) -> np.ndarray:
    """``uint8`` or ``uint16`` image -> ``float32`` in [0, 1].

    Raises:
        TypeError: Another dtype.
    """
    if img.dtype not in UNIT_SCALES:
        raise TypeError(f'unsupported image dtype {img.dtype}')
    return img.astype(np.float32) / UNIT_SCALES[img.dtype]


def to_unit_clipped(img: np.ndarray) -> np.ndarray:
    """``uint8``, ``uint16`` or float [0, 1] image -> ``float32`` in [0, 1]
    (a float image is clipped to [0, 1])."""
    if np.issubdtype(img.dtype, np.floating):
        return np.clip(img, 0, 1).astype(np.float32)
    return int_to_unit(img)


def unit_to_uint8(img: np.ndarray) -> np.ndarray:
    """[0, 1] float image -> ``uint8`` (clipped, rounded)."""
    return np.rint(np.clip(img, 0, 1) * 255).astype(np.uint8)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Bring an image to 8 bits.

    Args:
        img (np.ndarray): ``uint8`` (returned as is), ``uint16``
            (``round(x / 257)``) or float in [0, 1] (``round(255 * x)``,
            clipped to [0, 1] first).

    Returns:
        np.ndarray: ``uint8`` array of the same shape.
    """
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return np.rint(img / 257.0).astype(np.uint8)
    if np.issubdtype(img.dtype, np.floating):
        return unit_to_uint8(img)
    raise TypeError(f'to_uint8: unsupported dtype {img.dtype}')
