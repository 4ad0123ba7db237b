"""The [0, 1] scale of image dtypes, in one place."""
import numpy as np
import pytest

from tdfusion_mm.utils.image_dtype import (UNIT_SCALES, int_to_unit, to_uint8,
                                           to_unit_clipped, unit_to_uint8)


def test_int_to_unit_scales_by_dtype():
    assert UNIT_SCALES == {np.dtype(np.uint8): 255.0,
                           np.dtype(np.uint16): 65535.0}
    img8 = np.array([[0, 51, 255]], np.uint8)
    out = int_to_unit(img8)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.float32([[0, 0.2, 1]]))
    img16 = np.array([[0, 65535]], np.uint16)
    np.testing.assert_array_equal(int_to_unit(img16), [[0, 1]])
    with pytest.raises(TypeError, match='int32'):
        int_to_unit(np.zeros((2, 2), np.int32))
    with pytest.raises(TypeError, match='float32'):
        int_to_unit(np.zeros((2, 2), np.float32))


def test_to_unit_clipped_clips_floats_only():
    img = np.array([[-0.5, 0.25, 1.5]], np.float64)
    out = to_unit_clipped(img)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0.25, 1]])
    np.testing.assert_array_equal(
        to_unit_clipped(np.array([[255]], np.uint8)), [[1]])


def test_back_to_eight_bits():
    unit = np.array([[-1, 0.5 / 255, 1.6 / 255, 2]], np.float32)
    np.testing.assert_array_equal(unit_to_uint8(unit), [[0, 0, 2, 255]])
    np.testing.assert_array_equal(to_uint8(unit), unit_to_uint8(unit))
    img8 = np.array([[3, 200]], np.uint8)
    assert to_uint8(img8) is img8
    img16 = np.array([[257 * 3, 257 * 200 + 128, 65535]], np.uint16)
    np.testing.assert_array_equal(to_uint8(img16), [[3, 200, 255]])
    with pytest.raises(TypeError, match='int64'):
        to_uint8(np.zeros(2, np.int64))
    # 8 bits -> [0, 1] -> 8 bits is the identity
    every = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(unit_to_uint8(int_to_unit(every)), every)
