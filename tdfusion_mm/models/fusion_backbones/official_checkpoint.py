"""Conversion of official TDFusion checkpoints to our module layout.

The official networks (HaowenBai/TDFusion, ``nets/ReFusion.py``) wrap every
convolution in a ``MetaConv2d`` that holds an ``nn.Conv2d`` as ``conv`` and
also registers that conv's weight as its own ``weight``. Their state dicts
therefore store each convolution weight twice, under ``<name>.weight`` and
``<name>.conv.weight`` (the same tensor; there are no conv biases). Every
other key (layer norms ``*.body.weight``/``*.body.bias``, attention
temperatures, the PReLU ``out2.weight``) already has our name.

Conversion: unwrap a ``{'state_dict': ...}`` / ``{'model': ...}`` container,
strip a ``module.`` (DataParallel) prefix, fold each ``<name>.conv.<leaf>``
alias into ``<name>.<leaf>`` (checking the two copies agree), check that the
key set and shapes match our module exactly, and return the tensors in our
module's key order.
"""
from collections import OrderedDict
from typing import Mapping, Optional

import torch
import torch.nn as nn

__all__ = ['convert_official_state_dict', 'build_target_network']

_CONTAINER_KEYS = ('state_dict', 'model')
_DP_PREFIX = 'module.'


def build_target_network(net: str) -> nn.Module:
    """Build our network in the official configuration.

    Args:
        net (str): ``'refusion'`` (fusion network F) or ``'lpn'`` (loss
            generation module G).

    Returns:
        nn.Module: :class:`ReFusion` or :class:`LossGenerationModule`.
    """
    key = net.lower()
    if key == 'refusion':
        from .refusion import ReFusion
        return ReFusion()
    if key in ('lpn', 'lossgenerationmodule'):
        from ..loss_generators import LossGenerationModule
        return LossGenerationModule()
    raise ValueError(f"unknown net {net!r}, expected 'refusion' or 'lpn'")


def _unwrap(state_dict: Mapping) -> Mapping:
    """Peel ``{'state_dict': ...}`` / ``{'model': ...}`` containers."""
    while True:
        inner = [k for k in _CONTAINER_KEYS
                 if isinstance(state_dict.get(k), Mapping)]
        if not inner:
            return state_dict
        state_dict = state_dict[inner[0]]


def convert_official_state_dict(state_dict: Mapping,
                                net: str = 'refusion',
                                model: Optional[nn.Module] = None
                                ) -> 'OrderedDict[str, torch.Tensor]':
    """Map an official ``ReFusion`` / ``LPN`` state dict to our key layout.

    Args:
        state_dict (Mapping): Official state dict, possibly wrapped in
            ``{'state_dict': ...}`` or ``{'model': ...}`` and possibly with a
            ``module.`` prefix on every key.
        net (str): ``'refusion'`` or ``'lpn'``; selects the target network
            when ``model`` is not given.
        model (nn.Module, optional): Target module whose keys and shapes the
            result must match (for non-default configurations). Defaults to
            the official configuration of ``net``.

    Returns:
        OrderedDict[str, Tensor]: State dict that loads strictly into the
        target module.

    Raises:
        KeyError: Keys missing from or unexpected in ``state_dict``, listed by
            name.
        ValueError: A shape mismatch or two disagreeing copies of one
            convolution weight, named by key.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f'expected a mapping, got {type(state_dict)}')
    target = model if model is not None else build_target_network(net)
    expected = target.state_dict()

    src = OrderedDict()
    for key, value in _unwrap(state_dict).items():
        if key.startswith(_DP_PREFIX):
            key = key[len(_DP_PREFIX):]
        if key in src:
            raise ValueError(f'duplicate key {key!r} after stripping '
                             f"'{_DP_PREFIX}'")
        src[key] = value

    converted = {}
    unexpected = []
    # Plain keys first so that an alias can be checked against its twin.
    aliases = []
    for key, value in src.items():
        if key in expected:
            converted[key] = value
            continue
        head, sep, leaf = key.rpartition('.conv.')
        if sep and '.' not in leaf and f'{head}.{leaf}' in expected:
            aliases.append((key, f'{head}.{leaf}', value))
        else:
            unexpected.append(key)
    for key, ours, value in aliases:
        if ours in converted:
            twin = converted[ours]
            if (twin.shape != value.shape
                    or not torch.equal(twin.to(value.dtype), value)):
                raise ValueError(
                    f'official keys {ours!r} and {key!r} should hold the '
                    'same convolution weight but differ')
        else:
            converted[ours] = value

    missing = [k for k in expected if k not in converted]
    if missing or unexpected:
        # (Imported here: tdfusion_mm.utils needs OpenCV, F does not.)
        from tdfusion_mm.utils.checkpoint import some
        raise KeyError(
            f'official {net} state dict does not match '
            f'{type(target).__name__}: missing keys {len(missing)} '
            f'{some(missing)}, unexpected keys {len(unexpected)} '
            f'{some(unexpected)}')

    out = OrderedDict()
    for key, ref in expected.items():
        value = converted[key]
        if not isinstance(value, torch.Tensor):
            raise ValueError(f'value of {key!r} is not a tensor')
        if value.shape != ref.shape:
            # Only singleton-dimension differences (e.g. a temperature
            # saved as (heads,) instead of (heads, 1, 1)) are reshaped.
            if [s for s in value.shape if s != 1] != \
                    [s for s in ref.shape if s != 1]:
                raise ValueError(
                    f'shape mismatch for {key!r}: official '
                    f'{tuple(value.shape)}, ours {tuple(ref.shape)}')
            value = value.reshape(ref.shape)
        out[key] = value.detach()
    return out
