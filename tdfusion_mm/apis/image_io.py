"""Listing, reading, scaling and writing images for the tools and the
inferencer, with checks: every problem is a :class:`UserError` that names
the file.

* Folders are matched by file name without extension; two images with one
  name in a folder (``a.png`` and ``a.jpg``), a name missing from a folder
  and an empty folder are errors.
* Reading detects what a decoder would pass silently: a JPEG or PNG without
  its end marker (truncated; libjpeg would fill the rest grey), an
  undecodable file, an unsupported dtype.
* Scaling to [0, 1]: ``uint8`` / 255, ``uint16`` / 65535. Float images
  (e.g. 32-bit TIFF) have no range of their own, so they are accepted only
  with an explicit ``float_range=(low, high)``, mapped linearly to [0, 1];
  a value outside it (or NaN) is an error.
* Writing is atomic and verified: the file is encoded, written under a
  temporary name in the target folder, checked and renamed; a failure
  names the file and leaves no temporary behind.
"""
import contextlib
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from tdfusion_mm.utils.atomic_write import atomic_write
from tdfusion_mm.utils.colour import luma_array
from tdfusion_mm.utils.image_dtype import (UNIT_SCALES, int_to_unit, to_uint8,
                                          unit_to_uint8)
from tdfusion_mm.utils.user_errors import UserError

__all__ = [
    'IMG_EXTS', 'list_images', 'match_folders', 'read_image', 'read_luma8',
    'to_unit', 'to_uint8_image', 'write_image', 'write_bytes', 'AtomicOutputs'
]

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
FloatRange = Optional[Tuple[float, float]]

_JPEG_START, _JPEG_END = b'\xff\xd8', b'\xff\xd9'
_PNG_START, _PNG_END = b'\x89PNG\r\n\x1a\n', b'IEND\xaeB`\x82'


def list_images(folder: str) -> Dict[str, str]:
    """Map file name without extension -> path of the images in a folder.

    Raises:
        UserError: Not a folder, no images in it, or two images with one
            name (e.g. ``a.png`` and ``a.jpg``).
    """
    if not osp.isdir(folder):
        raise UserError(f'not a folder: {folder}')
    images: Dict[str, str] = {}
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith(IMG_EXTS):
            continue
        stem = osp.splitext(name)[0]
        if stem in images:
            raise UserError(f'{folder}: two images named {stem!r}: '
                            f'{osp.basename(images[stem])} and {name}; '
                            'keep one')
        images[stem] = osp.join(folder, name)
    if not images:
        raise UserError(f'no images ({", ".join(IMG_EXTS)}) in {folder}')
    return images


def match_folders(folders: Sequence[str]) -> List[Tuple[str, ...]]:
    """(name, path in folder 1, path in folder 2, ...) for every name.

    Every folder must hold the same names (matched without extension).

    Raises:
        UserError: A folder problem of :func:`list_images`, or names found
            in some folders only (listed per folder).
    """
    listings = [list_images(folder) for folder in folders]
    names = set().union(*listings)
    problems = []
    for folder, images in zip(folders, listings):
        missing = sorted(names - set(images))
        if missing:
            problems.append(f'{len(missing)} name(s) missing in {folder}: '
                            f'{missing[:10]}')
    if problems:
        raise UserError('images do not match by name (without extension):'
                        '\n  ' + '\n  '.join(problems))
    return [(name, ) + tuple(images[name] for images in listings)
            for name in sorted(names)]


def _check_complete(content: bytes, path: str) -> None:
    """Refuse a JPEG or PNG without its end marker, as the training loader
    does (a decoder would fill the missing part)."""
    tail = content.rstrip(b'\0')
    if content.startswith(_JPEG_START) and not tail.endswith(_JPEG_END):
        raise UserError(f'truncated JPEG file (no end marker): {path}')
    if content.startswith(_PNG_START) and not tail.endswith(_PNG_END):
        raise UserError(f'truncated PNG file (no IEND chunk): {path}')


def read_image(path: str) -> np.ndarray:
    """Decode an image file as stored: (H, W) grey or (H, W, 3) BGR,
    ``uint8``, ``uint16`` or float (an alpha channel is dropped).

    Raises:
        UserError: Missing, unreadable, truncated or undecodable file, or a
            dtype other than uint8, uint16, float32 and float64.
    """
    try:
        with open(path, 'rb') as f:
            content = f.read()
    except OSError as err:
        raise UserError(f'cannot read {path}: {err.strerror}') from err
    if not content:
        raise UserError(f'empty file: {path}')
    _check_complete(content, path)
    try:
        img = cv2.imdecode(np.frombuffer(content, np.uint8),
                           cv2.IMREAD_UNCHANGED)
    except cv2.error as err:
        raise UserError(f'cannot decode {path}: {err}') from err
    if img is None or img.size == 0:
        raise UserError(f'cannot decode {path}: not an image or corrupt')
    if img.ndim == 3:
        if img.shape[2] in (1, 2):  # grey, grey + alpha
            img = img[..., 0]
        else:  # BGR, BGRA
            img = img[..., :3]
    if img.dtype not in UNIT_SCALES and img.dtype.kind != 'f':
        raise UserError(f'{path}: unsupported image dtype {img.dtype} '
                        '(uint8, uint16 or float with a given range)')
    return img


def to_unit(img: np.ndarray,
            float_range: FloatRange = None,
            name: str = 'image') -> np.ndarray:
    """Scale an image to ``float32`` in [0, 1].

    Args:
        img (np.ndarray): ``uint8`` (/ 255), ``uint16`` (/ 65535) or float.
        float_range (tuple[float, float], optional): (low, high) of a float
            image, mapped to (0, 1). Required for float images: their range
            cannot be told from the data (0-1, 0-255 and 0-65535 all occur).
        name (str): The file or array named in errors.

    Raises:
        UserError: A float image without ``float_range``, with values
            outside it or not finite, or an unsupported dtype.
    """
    if img.dtype in UNIT_SCALES:
        return int_to_unit(img)
    if img.dtype.kind != 'f':
        raise UserError(f'{name}: unsupported image dtype {img.dtype} '
                        '(uint8, uint16 or float with a given range)')
    if float_range is None:
        raise UserError(
            f'{name} is a {img.dtype} image (values {np.nanmin(img):g} to '
            f'{np.nanmax(img):g}): give its value range explicitly, e.g. '
            '--float-range 0 1 or --float-range 0 255')
    low, high = (float(v) for v in float_range)
    if not high > low:
        raise UserError(f'float range ({low:g}, {high:g}): high must exceed '
                        'low')
    if not np.isfinite(img).all():
        raise UserError(f'{name} has NaN or infinite values')
    tol = 1e-6 * (high - low)
    if img.min() < low - tol or img.max() > high + tol:
        raise UserError(f'{name} has values {img.min():g} to {img.max():g},'
                        f' outside the given range {low:g} to {high:g}')
    unit = (img.astype(np.float32) - np.float32(low)) / np.float32(high - low)
    return np.clip(unit, 0, 1)


def to_uint8_image(img: np.ndarray,
                   float_range: FloatRange = None,
                   name: str = 'image') -> np.ndarray:
    """The image with 8 bits per channel (``uint8`` as is, ``uint16``
    rounded from x / 257, float through :func:`to_unit`)."""
    if img.dtype in UNIT_SCALES:
        return to_uint8(img)
    return unit_to_uint8(to_unit(img, float_range, name))


def read_luma8(path: str, float_range: FloatRange = None) -> np.ndarray:
    """The 8-bit luma of an image file (colour: OpenCV's Y of BGR), as
    the fusion metrics take it."""
    return to_uint8_image(luma_array(read_image(path)), float_range, path)


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary name, size checked,
    renamed); the folder is created if needed.

    Raises:
        UserError: The file cannot be written (the cause is named); no
            temporary file is left behind.
    """
    try:
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        with atomic_write(path) as tmp:
            with open(tmp, 'wb') as f:
                f.write(data)
            if osp.getsize(tmp) != len(data):
                raise OSError(
                    f'wrote {osp.getsize(tmp)} of {len(data)} bytes')
            if osp.isdir(path):
                raise IsADirectoryError(f'a folder named {path} exists')
    except OSError as err:
        raise UserError(f'cannot write {path}: {err.strerror or err}'
                        ) from err


def write_image(path: str, img: np.ndarray, params: Sequence[int] = ()
                ) -> None:
    """Encode ``img`` by the extension of ``path`` and write it with
    :func:`write_bytes`.

    Raises:
        UserError: The image cannot be encoded or the file written.
    """
    ext = osp.splitext(path)[1]
    try:
        ok, buf = cv2.imencode(ext, img, list(params))
    except cv2.error as err:
        raise UserError(f'cannot encode {path}: {err}') from err
    if not ok:
        raise UserError(f'cannot encode {path} as {ext!r}')
    write_bytes(path, buf.tobytes())


class AtomicOutputs:
    """A set of files that appear together or not at all.

    ``add`` writes each file under a temporary name; leaving the ``with``
    block without an error renames them all, an error removes them::

        with AtomicOutputs() as outputs:
            outputs.add('out/a.csv', text_a.encode())
            outputs.add('out/b.md', text_b.encode())

    A target that is a folder or cannot be written is reported (a
    :class:`UserError` naming it) before any file is renamed.
    """

    def __init__(self) -> None:
        self._files = contextlib.ExitStack()

    def __enter__(self) -> 'AtomicOutputs':
        return self

    def add(self, path: str, data: bytes) -> None:
        """Write ``data`` for ``path`` under a temporary name."""
        if osp.isdir(path):
            raise UserError(f'cannot write {path}: a folder of that name '
                            'exists')
        write_bytes(self._files.enter_context(atomic_write(path)), data)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._files.__exit__(exc_type, exc, tb)
        except OSError as err:
            raise UserError(f'cannot write {err.filename2 or err.filename}: '
                            f'{err.strerror or err}') from err
