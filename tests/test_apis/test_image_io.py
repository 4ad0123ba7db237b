"""Listing, reading, scaling and writing images: every problem is a
UserError naming the file."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from tdfusion_mm.apis import (AtomicOutputs, UserError, list_images,
                              match_folders, read_image, to_uint8_image,
                              to_unit, write_image)


def image(seed=0, shape=(24, 32, 3), dtype=np.uint8):
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype)


def test_list_and_match(tmp_path):
    for folder in ('a', 'b'):
        os.makedirs(tmp_path / folder)
        for name in ('x', 'y'):
            cv2.imwrite(str(tmp_path / folder / f'{name}.png'), image())
    (tmp_path / 'a' / 'notes.txt').write_text('not an image')
    pairs = match_folders([str(tmp_path / 'a'), str(tmp_path / 'b')])
    assert [p[0] for p in pairs] == ['x', 'y']
    assert pairs[0][2] == str(tmp_path / 'b' / 'x.png')
    cv2.imwrite(str(tmp_path / 'b' / 'z.jpg'), image())
    with pytest.raises(UserError, match=r"1 name\(s\) missing in .*a: "
                       r"\['z'\]"):
        match_folders([str(tmp_path / 'a'), str(tmp_path / 'b')])
    cv2.imwrite(str(tmp_path / 'b' / 'x.jpg'), image())
    with pytest.raises(UserError, match="two images named 'x': x.jpg and "
                       'x.png'):
        list_images(str(tmp_path / 'b'))
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(UserError, match='no images'):
        list_images(str(tmp_path / 'empty'))
    with pytest.raises(UserError, match='not a folder'):
        list_images(str(tmp_path / 'missing'))


def test_read_detects_truncation_and_bad_files(tmp_path):
    img = image(1, (64, 80, 3))
    for ext in ('.jpg', '.png'):
        path = str(tmp_path / f'full{ext}')
        cv2.imwrite(path, img)
        assert read_image(path).shape == (64, 80, 3)
        data = open(path, 'rb').read()
        cut = str(tmp_path / f'cut{ext}')
        open(cut, 'wb').write(data[:len(data) * 2 // 3])
        with pytest.raises(UserError, match=f'truncated .*cut{ext}'):
            read_image(cut)
    junk = str(tmp_path / 'junk.png')
    open(junk, 'wb').write(b'not an image at all')
    with pytest.raises(UserError, match='cannot decode .*junk.png'):
        read_image(junk)
    empty = str(tmp_path / 'empty.png')
    open(empty, 'wb').close()
    with pytest.raises(UserError, match='empty file: .*empty.png'):
        read_image(empty)
    with pytest.raises(UserError, match='cannot read .*none.png'):
        read_image(str(tmp_path / 'none.png'))
    rgba = str(tmp_path / 'rgba.png')
    cv2.imwrite(rgba, image(2, (8, 9, 4)))
    assert read_image(rgba).shape == (8, 9, 3)


def test_scaling_needs_an_explicit_float_range(tmp_path):
    path = str(tmp_path / 'f.tiff')
    values = np.linspace(0, 255, 24 * 32, dtype=np.float32).reshape(24, 32)
    cv2.imwrite(path, values)
    img = read_image(path)
    assert img.dtype == np.float32
    with pytest.raises(UserError, match=r'f.tiff is a float32 image .*'
                       r'values 0 to 255.*--float-range'):
        to_unit(img, name=path)
    unit = to_unit(img, (0, 255), path)
    np.testing.assert_allclose(unit, values / 255, atol=1e-6)
    with pytest.raises(UserError, match='outside the given range 0 to 1'):
        to_unit(img, (0, 1), path)
    bad = img.copy()
    bad[0, 0] = np.nan
    with pytest.raises(UserError, match='NaN'):
        to_unit(bad, (0, 255), path)
    assert to_unit(np.full((2, 2), 65535, np.uint16)).max() == 1
    assert to_uint8_image(np.full((2, 2), 257 * 7, np.uint16)).max() == 7
    with pytest.raises(UserError, match='unsupported image dtype int32'):
        to_unit(np.zeros((2, 2), np.int32), name='x.tif')


def test_writes_are_atomic_and_verified(tmp_path):
    img = image(3)
    path = str(tmp_path / 'out' / 'a.png')
    write_image(path, img)
    np.testing.assert_array_equal(cv2.imread(path), img)
    os.makedirs(tmp_path / 'out' / 'b.png')  # a folder where the file goes
    with pytest.raises(UserError, match=r'cannot write .*b\.png'):
        write_image(str(tmp_path / 'out' / 'b.png'), img)
    with pytest.raises(UserError, match='cannot encode'):
        write_image(str(tmp_path / 'out' / 'c.unknown'), img)
    assert sorted(os.listdir(tmp_path / 'out')) == ['a.png', 'b.png']


def test_atomic_outputs_all_or_nothing(tmp_path):
    out = tmp_path / 'res'
    os.makedirs(out / 'summary.md')
    with pytest.raises(UserError, match=r'cannot write .*summary\.md'):
        with AtomicOutputs() as outputs:
            outputs.add(str(out / 'per_image.csv'), b'a')
            outputs.add(str(out / 'summary.md'), b'b')
    assert os.listdir(out) == ['summary.md']
    with AtomicOutputs() as outputs:
        outputs.add(str(out / 'per_image.csv'), b'a')
        outputs.add(str(out / 'summary.csv'), b'b')
    assert sorted(os.listdir(out)) == ['per_image.csv', 'summary.csv',
                                      'summary.md']
    assert osp.isdir(out / 'summary.md')
