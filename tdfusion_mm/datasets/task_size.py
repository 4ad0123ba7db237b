"""Set a pipeline's task size: the one value in which the dataset configs'
pipelines differ.

The shared pipelines (``configs/_base_/datasets/paired_*.py``) leave the
size open; each dataset config fills it in (mmengine configs cannot pass a
child's value to its base)::

    from tdfusion_mm.datasets.task_size import at_task_size
    train_pipeline = at_task_size(_base_.train_pipeline, task_size)
"""
import copy
from typing import List, Sequence, Tuple

__all__ = ['at_task_size']

# The key that holds the target size, by transform type (scope aside).
SIZE_KEYS = {'Resize': 'scale', 'Pad': 'size'}


def at_task_size(pipeline: Sequence[dict],
                 size: Tuple[int, int]) -> List[dict]:
    """A copy of ``pipeline`` with every ``Resize``'s ``scale`` and every
    ``Pad``'s ``size`` set to ``size`` ((w, h), as mmdet and mmseg take it),
    within wrappers such as ``PairedTransform`` too.

    Raises:
        ValueError: if the pipeline has no ``Resize`` (it would silently keep
            its native sizes).
    """
    pipeline = copy.deepcopy(list(pipeline))
    found = _set_size(pipeline, tuple(size))
    if 'Resize' not in found:
        types = [t.get('type') for t in pipeline]
        raise ValueError(f'at_task_size: no Resize in the pipeline {types}')
    return pipeline


def _set_size(transforms: list, size: tuple) -> set:
    """Set the size keys in place; the transform types that got one."""
    found = set()
    for transform in transforms:
        kind = str(transform.get('type', '')).split('.')[-1]
        if kind in SIZE_KEYS:
            transform[SIZE_KEYS[kind]] = size
            found.add(kind)
        found |= _set_size(transform.get('transforms', []), size)
    return found
