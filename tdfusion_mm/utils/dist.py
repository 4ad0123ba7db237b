"""Distributed set-up that mmengine's launcher lacks on CPU-only machines."""
import gc

import torch
from mmengine.config import Config


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

    A gloo group freed during the interpreter's shutdown can abort the
    process ("terminate called without an active exception") after a run
    that succeeded. DDP's reducer holds the group, so the caller drops its
    runner first; the runner's reference cycles are collected here, before
    the group is destroyed. The barrier lets every rank finish its last
    collective first.
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        gc.collect()
        torch.distributed.destroy_process_group()

