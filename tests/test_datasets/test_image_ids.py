"""load_ids: the ids of a split file, or of a folder's images."""
import pytest

from tdfusion_mm.datasets.image_ids import load_ids


def test_ids_of_a_split_file(tmp_path):
    split = tmp_path / 'train.txt'
    split.write_text('010\n 002 \n\n003\n')
    assert load_ids(str(split), None, '.png') == ['010', '002', '003']
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        load_ids(str(tmp_path / 'nope.txt'), str(tmp_path), '.png')


def test_ids_of_a_folder(tmp_path):
    for name in ('b.png', 'a.png', 'c.jpg'):
        (tmp_path / name).write_bytes(b'')
    assert load_ids('', str(tmp_path), '.png') == ['a', 'b']
    assert load_ids(None, str(tmp_path), '.jpg') == ['c']
    with pytest.raises(FileNotFoundError, match=r'No \.bmp image in'):
        load_ids('', str(tmp_path), '.bmp')
