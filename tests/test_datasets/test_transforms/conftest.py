import pytest
from mmengine.registry import DefaultScope


@pytest.fixture(autouse=True)
def mmdet_default_scope():
    """Pipelines run with mmdet as the default scope, as in mmdet configs
    (mmcv's RandomResize builds its inner resize in the default scope)."""
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield
