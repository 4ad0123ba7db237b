"""Keep checkpoints loadable with ``torch.load(weights_only=True)``."""
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from tdfusion_mm.engine.atomic_local_backend import use_checkpoint_io
from tdfusion_mm.registry import HOOKS

_MARK = '__history_buffer__'


def to_safe(obj):
    """Replace what weights-only unpickling refuses by tensors and dicts.

    mmengine's message hub stores ``HistoryBuffer`` objects (they pickle
    bound methods, i.e. ``getattr``, which must never be allow-listed) and
    numpy scalars.
    """
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {_MARK: True, 'log': torch.from_numpy(np.asarray(log,
                                                                np.float64)),
                'count': torch.from_numpy(np.asarray(count, np.float64)),
                'max_length': int(obj.max_length)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj)
    if isinstance(obj, dict):
        return type(obj)((k, to_safe(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_safe(v) for v in obj)
    return obj


def from_safe(obj):
    """Inverse of :func:`to_safe` for the history buffers."""
    if isinstance(obj, dict) and obj.get(_MARK):
        return HistoryBuffer(obj['log'].numpy().tolist(),
                             obj['count'].numpy().tolist(),
                             obj['max_length'])
    if isinstance(obj, dict):
        return type(obj)((k, from_safe(v)) for k, v in obj.items())
    return obj


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Save checkpoints that load with ``weights_only=True``.

    torch >= 2.6 loads checkpoints weights-only by default, and mmengine
    0.10.7 calls ``torch.load`` without arguments, so a checkpoint holding
    mmengine's message hub cannot be resumed or tested. This hook rewrites
    the message hub and any numpy values into tensors and plain containers
    before saving and restores the history buffers after loading, so that no
    type needs allow-listing and a downloaded checkpoint cannot run code.
    Before the run it enables the ``atomic_local`` backend of the configs'
    ``CheckpointHook`` and the loader that names bad checkpoints
    (:func:`~tdfusion_mm.engine.use_checkpoint_io`).
    """

    priority = 'VERY_LOW'  # after every hook that adds to the checkpoint

    def before_run(self, runner) -> None:
        # before CheckpointHook.before_train opens its backend and before
        # the runner loads or resumes a checkpoint
        use_checkpoint_io()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_safe(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = from_safe(checkpoint['message_hub'])
