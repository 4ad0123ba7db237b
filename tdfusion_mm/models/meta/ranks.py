"""Reductions over the ranks of ``torch.distributed`` (none without a group).

They need torch alone, so that the meta step imports without OpenCV.
"""
from typing import Dict

import torch
import torch.distributed as dist
from torch import Tensor


def world_size() -> int:
    """The number of ranks, 1 without a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def rank_mean(tensors) -> list:
    """Average tensors over the ranks, in place; returns them as a list."""
    tensors = list(tensors)
    size = world_size()
    if size > 1:
        for t in tensors:
            dist.all_reduce(t)
            t.div_(size)
    return tensors


def average_hypergrads(hypergrads: Dict[str, Tensor]) -> Tensor:
    """Average G's hypergradient over the ranks, in place.

    Returns:
        Tensor: Its largest magnitude (non-finite if any entry is).
    """
    grads = rank_mean(hypergrads.values())
    return torch.stack([g.abs().max() for g in grads]).max()


def finite_on_every_rank(*tensors: Tensor) -> bool:
    """Whether all ``tensors`` are finite on every rank.

    One collective, so that every rank takes the same branch: a rank that
    skipped a backward pass would leave the others waiting in DDP's
    gradient all-reduce.
    """
    flag = torch.stack([torch.isfinite(t).all() for t in tensors]).all()
    flag = flag.to(torch.float32)
    if world_size() > 1:
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag)
