"""Loading checkpoints safely, with ``torch.load(weights_only=True)``."""
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
