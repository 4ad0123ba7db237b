"""Loading checkpoints safely, with errors that say what is wrong with the
file, and finding the checkpoint to resume from."""
import glob
import os
import os.path as osp
import pickle
import zipfile
from typing import List, Optional

import torch
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

from .atomic_write import atomic_write

_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_PROTO = b'\x80'


class CheckpointError(RuntimeError):
    """A file that is not a usable checkpoint (message names it)."""


def diagnose_checkpoint(path: str, error: Exception) -> str:
    """Why ``torch.load`` failed on ``path``: empty, truncated, not a
    checkpoint, or holding pickled objects that weights-only loading
    refuses."""
    size = osp.getsize(path)
    if size == 0:
        return 'the file is empty (0 bytes): truncated or never written'
    with open(path, 'rb') as f:
        head = f.read(4)
    if head == _ZIP_MAGIC:
        if not zipfile.is_zipfile(path):
            return (f'the file is truncated ({size} bytes, its zip archive '
                    'has no end): an interrupted write or copy')
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            return f'the file is corrupted ({err})'
        if bad is not None:
            return f'the file is corrupted (entry {bad} fails its CRC check)'
    elif not head.startswith(_PICKLE_PROTO):
        return ('not a PyTorch checkpoint (neither a zip archive nor a '
                f'pickle; it starts with {head!r})')
    if isinstance(error, pickle.UnpicklingError) and \
            'Weights only' in str(error):
        return ('it holds pickled Python objects that weights-only loading '
                'refuses (a checkpoint saved without SafeCheckpointHook, or '
                'not a trusted checkpoint); its code was not run')
    if isinstance(error, (EOFError, pickle.UnpicklingError)):
        return f'the file is truncated or corrupted ({error!r})'
    return f'torch.load failed: {error!r}'


def load_checkpoint_file(path: str, map_location='cpu') -> dict:
    """``torch.load`` with ``weights_only=True`` and an error naming the file.

    Our training configs save checkpoints through ``SafeCheckpointHook``, so
    they hold only tensors and plain containers; converted official
    checkpoints are plain state dicts.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        CheckpointError: If it is empty, truncated, not a checkpoint, or
            holds objects that weights-only loading refuses.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise CheckpointError(
            f'cannot load checkpoint {path}: '
            f'{diagnose_checkpoint(path, err)}') from err


def load_from_local(filename: str, map_location=None) -> dict:
    """mmengine's loader of local files (resume, ``load_from``,
    ``tools/test.py``), replaced by :func:`load_checkpoint_file` after
    :func:`use_checked_checkpoint_loader`: mmengine's calls ``torch.load``
    without naming the file in its errors."""
    return load_checkpoint_file(filename, map_location)


def use_checked_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints with :func:`load_from_local`,
    for the whole process (importing this module changes nothing)."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)


def checkpoint_is_valid(path: str) -> bool:
    """Whether ``path`` loads as a checkpoint with a ``state_dict``."""
    try:
        return 'state_dict' in load_checkpoint_file(path)
    except (OSError, CheckpointError):
        return False


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` (without a path) continues from.

    mmengine reads it from ``work_dir/last_checkpoint``. When that file is
    empty (mmengine writes it non-atomically), names a file that is gone,
    or names a file that does not load, fall back to the newest loadable
    ``epoch_*.pth``/``iter_*.pth`` of ``work_dir`` and say so.

    Returns:
        str | None: A loadable checkpoint, or None if there is none (the run
        starts from scratch).
    """
    record = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(record):
        with open(record) as f:
            named = f.read().strip()
        if named and checkpoint_is_valid(named):
            return named
        problem = (f'names {named}, which is missing or does not load'
                   if named else 'is empty')
    elif not osp.isdir(work_dir):
        return None
    else:
        problem = 'does not exist'
    candidates = [
        p for pattern in ('epoch_*.pth', 'iter_*.pth')
        for p in glob.glob(osp.join(work_dir, pattern))
        if osp.abspath(p) != osp.abspath(named or '')
    ]
    candidates.sort(key=lambda p: (os.stat(p).st_mtime, p), reverse=True)
    for path in candidates:
        if checkpoint_is_valid(path):
            print_log(f'{record} {problem}: resuming from the newest valid '
                      f'checkpoint of the work dir, {path}', logger='current',
                      level=30)
            return path
        print_log(f'Skipping {path}: it does not load as a checkpoint',
                  logger='current', level=30)
    if named or candidates:
        print_log(f'{record} {problem} and no checkpoint of {work_dir} loads:'
                  ' training starts from scratch', logger='current',
                  level=30)
    return None


def record_last_checkpoint(work_dir: str) -> Optional[str]:
    """Name the newest checkpoint of ``work_dir`` that loads in
    ``work_dir/last_checkpoint`` (written atomically), e.g. after a run was
    stopped, perhaps while mmengine was writing that file.

    Returns:
        str | None: The checkpoint, or None if there is none.
    """
    last = find_resume_checkpoint(work_dir)
    if last is not None:
        record = osp.join(work_dir, 'last_checkpoint')
        with atomic_write(record) as tmp:
            with open(tmp, 'w') as f:
                f.write(last)
    return last


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
    check_state_fits(module.state_dict(), state, f'task checkpoint {path}',
                     f'the task model {type(module).__name__}')
    module.load_state_dict(state, strict=True)


def some(items: list, shown: int = 4) -> str:
    """``items`` in one line: the first ``shown`` and a count of the
    rest."""
    rest = len(items) - shown
    return f'{items[:shown]}' + (f' and {rest} more' if rest > 0 else '')


def check_state_fits(own: dict, state: dict, source: str, target: str,
                     may_miss: Optional[str] = None) -> None:
    """Raise unless ``state`` loads strictly into a module whose state dict
    is ``own``; keys starting with ``may_miss`` may be missing. The message
    is one line: counts, and the first few keys or shapes.

    Raises:
        KeyError: ``'<source> does not fit <target>'`` with the missing and
            unexpected keys.
        RuntimeError: ``'<source> does not fit <target>: N shapes
            differ'``.
    """
    missing = sorted(k for k in set(own) - set(state)
                     if not (may_miss and k.startswith(may_miss)))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        parts = [f'{name} keys {len(keys)} {some(keys)}'
                 for name, keys in (('missing', missing),
                                    ('unexpected', unexpected)) if keys]
        raise KeyError(f'{source} does not fit {target}: '
                       f'{"; ".join(parts)}')
    shapes = [f'{k}: {tuple(state[k].shape)} vs {tuple(v.shape)}'
              for k, v in own.items()
              if k in state and state[k].shape != v.shape]
    if shapes:
        raise RuntimeError(f'{source} does not fit {target}: '
                           f'{len(shapes)} shapes differ (its vs theirs): '
                           f'{some(shapes, 3)}')


class ResumeMismatchError(CheckpointError, ValueError):
    """A checkpoint that loads but does not fit the run it would resume."""


def optimizer_differences(saved: dict, optim_wrapper) -> List[str]:
    """How the optimizer states of a checkpoint differ in layout from
    ``optim_wrapper`` (an ``OptimWrapper`` or ``OptimWrapperDict``): other
    wrappers, other parameter groups, state tensors of other shapes."""
    if hasattr(optim_wrapper, 'optim_wrappers'):
        wrappers = dict(optim_wrapper.optim_wrappers)
    else:
        wrappers, saved = {'': optim_wrapper}, {'': saved}
    if set(saved) != set(wrappers):
        return [f'optimizers {sorted(saved)} vs {sorted(wrappers)}']
    found = []
    for name, wrapper in wrappers.items():
        label = f'optimizer {name!r}' if name else 'the optimizer'
        groups = saved[name].get('param_groups', [])
        params = [p for g in wrapper.optimizer.param_groups
                  for p in g['params']]
        sizes = [len(g['params']) for g in groups]
        own = [len(g['params']) for g in wrapper.optimizer.param_groups]
        if sizes != own:
            found.append(f'{label}: parameter groups of {sizes} vs {own} '
                         'parameters')
            continue
        ids = [i for g in groups for i in g['params']]
        for i, param in zip(ids, params):
            for key, value in saved[name].get('state', {}).get(i, {}).items():
                if torch.is_tensor(value) and value.dim() and \
                        value.shape != param.shape:
                    found.append(f'{label}: state {key!r} of parameter {i} '
                                 f'{tuple(value.shape)} vs '
                                 f'{tuple(param.shape)}')
                    break
    return found


def check_resume_fits(checkpoint: dict, model: torch.nn.Module,
                      optim_wrapper, source: str, target: str) -> None:
    """Refuse, before anything is loaded, to resume a run of ``model`` and
    ``optim_wrapper`` from ``checkpoint``: the model's keys and shapes
    (another architecture or number of classes) and the optimizers' layout
    (another config's parameter groups) must match.

    Raises:
        ResumeMismatchError: One line naming ``source`` (the checkpoint),
            ``target`` (the config) and the first differences, with a count
            of the rest.
    """
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in checkpoint.get('state_dict', {}).items()}
    prefix = f'Cannot resume from {source} with {target}'
    try:
        check_state_fits(model.state_dict(), state, 'the checkpoint',
                         'the model')
    except (KeyError, RuntimeError) as err:
        raise ResumeMismatchError(f'{prefix}: {err.args[0]}') from None
    if 'optimizer' in checkpoint and optim_wrapper is not None:
        found = optimizer_differences(checkpoint['optimizer'],
                                      optim_wrapper)
        if found:
            raise ResumeMismatchError(
                f'{prefix}: the optimizer states differ in layout '
                f'(checkpoint vs config): {len(found)} {some(found, 2)}')
