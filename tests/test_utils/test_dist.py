"""CPU distributed set-up: gloo, no device ids, a clean exit."""
import socket

import torch.distributed as dist
from mmengine.config import Config

from tdfusion_mm.utils.dist import close_distributed, init_cpu_distributed


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_one_process_group_on_gloo(monkeypatch):
    for key, value in dict(MASTER_ADDR='127.0.0.1', MASTER_PORT=free_port(),
                           RANK=0, WORLD_SIZE=1).items():
        monkeypatch.setenv(key, str(value))
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl')),
                      model_wrapper_cfg=dict(
                          type='MMDistributedDataParallel',
                          find_unused_parameters=True, device_ids=[0])))
    close_distributed()  # no group: nothing to do
    init_cpu_distributed(cfg)
    try:
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg.device_ids is None
        assert cfg.model_wrapper_cfg.find_unused_parameters
        init_cpu_distributed(Config(dict(env_cfg=dict())))  # joined once
    finally:
        close_distributed()
    assert not dist.is_initialized()
