"""Distributed set-up that mmengine's launcher lacks on CPU-only machines."""
import torch
from mmengine.config import Config
from mmengine.dist import all_reduce


def init_cpu_distributed(cfg: Config) -> None:
    """Join the process group with gloo on a machine without CUDA.

    mmengine's launcher calls ``torch.cuda.set_device``, which a CPU-only
    torch lacks; the runner skips its own set-up once a group exists. DDP on
    CPU modules takes no device ids, while mmengine passes ``LOCAL_RANK``.
    """
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend='gloo')


def close_distributed() -> None:
    """Leave the process group, if any, while the interpreter is alive.

    A gloo group left to the interpreter's shutdown can abort the process
    ("terminate called without an active exception") after a run that
    succeeded. The barrier lets every rank finish its last collective first.
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def finite_on_every_rank(*tensors: torch.Tensor) -> bool:
    """Whether all ``tensors`` are finite on every rank of the process group
    (on this process alone without one).

    One collective, so that every rank takes the same branch: a rank that
    skipped a backward pass would leave the others waiting in DDP's
    gradient all-reduce.
    """
    flag = torch.stack([torch.isfinite(t).all() for t in tensors]).all()
    flag = flag.to(torch.float32)
    all_reduce(flag, op='min')
    return bool(flag)
