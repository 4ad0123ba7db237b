"""The scene painter (:mod:`tdfusion_mm.testing.scene_painter`): one scene
from its generator, the same for the same seed, with VOC boxes inside the
image for the classes asked for only."""
import numpy as np
import pytest

from tdfusion_mm.testing import M3FD_CLASSES, MSRS_CLASSES, draw_scene


def scene(seed, classes=M3FD_CLASSES, difficult_below=0):
    return draw_scene(np.random.default_rng([seed, 0]), 64, 80, classes,
                      difficult_below)


def test_a_seed_gives_one_scene():
    first, again, other = scene(1), scene(1), scene(2)
    for a, b in zip(first[:3], again[:3]):
        np.testing.assert_array_equal(a, b)
    assert first[3] == again[3]
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize('seed', range(4))
def test_images_labels_and_boxes(seed):
    ir, vis, label, objects = scene(seed, ('People', 'Car'), 8)
    assert ir.shape == (64, 80) and vis.shape == (64, 80, 3)
    assert ir.dtype == vis.dtype == label.dtype == np.uint8
    assert label.max() < len(MSRS_CLASSES)
    for obj in objects:
        assert obj['name'] in ('People', 'Car')
        xmin, ymin, xmax, ymax = obj['bbox']
        assert 1 <= xmin <= xmax <= 80 and 1 <= ymin <= ymax <= 64
        small = min(xmax - xmin, ymax - ymin) + 1 < 8
        assert obj['difficult'] == int(small)
