"""Loading checkpoints safely, with ``torch.load(weights_only=True)``."""
import pickle

import torch


def load_checkpoint_file(path: str, map_location='cpu') -> dict:
    """``torch.load`` with ``weights_only=True`` and an error naming the file.

    Our training configs save checkpoints through ``SafeCheckpointHook``, so
    they hold only tensors and plain containers; converted official
    checkpoints are plain state dicts.
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f'checkpoint not found: {path}') from None
    except Exception as err:
        raise RuntimeError(
            f'cannot load checkpoint {path} with weights_only=True (a '
            'checkpoint saved without SafeCheckpointHook holds pickled '
            f'objects): {err}') from err



def _history_buffer_method(owner, name: str):
    """``getattr`` as stock checkpoints use it, and only so: a statistics
    method of mmengine's ``HistoryBuffer`` (the buffers pickle a dict of
    them). Any other use is refused."""
    from mmengine.logging import HistoryBuffer
    names = {'min', 'max', 'current', 'mean',
             *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in names:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'refused getattr({owner!r}, {name!r}) in a checkpoint')


def _mmengine_pickled_types() -> list:
    """What stock mmengine checkpoints pickle besides tensors and plain
    containers: the message hub's history buffers, which hold numpy arrays
    and scalars and name their statistics methods through ``getattr``
    (allowed for those names only). Data only: nothing else is called."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    multiarray = getattr(np, '_core', None) or np.core
    return [HistoryBuffer, np.ndarray, np.dtype,
            multiarray.multiarray._reconstruct, multiarray.multiarray.scalar,
            (_history_buffer_method, 'builtins.getattr')
            ] + [type(np.dtype(t)) for t in (np.float64, np.float32,
                                             np.int64, np.int32)]


def load_task_state_dict(module: torch.nn.Module, path: str) -> None:
    """Load a checkpoint of mmdet's or mmseg's own tools into ``module``,
    strictly.

    The checkpoint is read with ``weights_only=True``, the types that stock
    mmengine checkpoints pickle (history buffers of the message hub) being
    allowed. Its ``state_dict`` (or the checkpoint itself if it is a plain
    state dict) is used; a TDFusion checkpoint's ``task_model.*`` keys are
    taken without that prefix.

    Raises:
        KeyError: Naming the file and the missing and unexpected keys.
        RuntimeError: Naming the file, if shapes differ or it cannot be read.
    """
    with torch.serialization.safe_globals(_mmengine_pickled_types()):
        checkpoint = load_checkpoint_file(path)
    state = checkpoint.get('state_dict', checkpoint)
    prefix = 'task_model.'
    if any(k.startswith(prefix) for k in state):
        state = {k[len(prefix):]: v for k, v in state.items()
                 if k.startswith(prefix)}
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:

        def listing(keys):
            return f'{len(keys)} {keys[:8]}' + (' ...' if len(keys) > 8 else
                                                '')
        raise KeyError(
            f'task checkpoint {path} does not fit the task model '
            f'{type(module).__name__}: missing keys {listing(missing)}; '
            f'unexpected keys {listing(unexpected)}')
    shapes = [f'{k}: {tuple(state[k].shape)} vs {tuple(v.shape)}'
              for k, v in own.items() if state[k].shape != v.shape]
    if shapes:
        raise RuntimeError(f'task checkpoint {path}: shapes differ from the '
                           f'task model: {shapes[:8]}')
    module.load_state_dict(state, strict=True)
