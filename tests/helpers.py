"""Helpers shared by the tests: build the demo model, draw batches, run the
tools, a tiny fusion network."""
import copy
import os
import subprocess
import sys

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch import nn

from tdfusion_mm.registry import DATASETS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS


def build(demo_cfg, seed=0):
    init_default_scope('tdfusion_mm')
    cfg = copy.deepcopy(demo_cfg)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=optim_cfg.pop('constructor'), optim_wrapper_cfg=optim_cfg))
    return cfg, model, constructor(model)


def batches(cfg, split='train', size=2):
    dl = cfg.train_dataloader if split == 'train' else cfg.test_dataloader
    dataset = DATASETS.build(dl.dataset)
    torch.manual_seed(0)
    np.random.seed(0)
    items = [dataset[i] for i in range(len(dataset))]
    return [pseudo_collate(items[i:i + size])
            for i in range(0, len(items) - size + 1, size)]


def state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module):
    return [k for k, v in module.state_dict().items()
            if not torch.equal(v, before[k])]


def optimizer_tensors(optim_wrapper):
    return {(pid, k): v.clone()
            for pid, st in optim_wrapper.optimizer.state.items()
            for k, v in st.items() if torch.is_tensor(v)}


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_in_repo(args, expect_ok=True):
    """Run a Python tool from the repository root; fails the test unless it
    succeeds (or, with ``expect_ok=False``, fails). Its output."""
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable] + args, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert (proc.returncode == 0) == expect_ok, out[-3000:]
    return out


def run_tool(args, cwd, env=None):
    """Run a Python tool in a fresh process; fails the test on an error.
    ``env`` adds environment variables."""
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore',
               **(env or {}))
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def subprocess_failure(args, cwd):
    """Run a Python tool that must fail; its output."""
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode != 0, 'the tool did not fail'
    return proc.stdout + proc.stderr


def demo_data_options(data_root):
    """``--cfg-options`` reading ``data_root`` in the main process."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.persistent_workers=False',
    ]


class TinyFusion(nn.Module):
    """A two-layer stand-in for F, small enough for float64 checks."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 1, 3, padding=1)

    def forward(self, ir, vis):
        x = torch.tanh(self.conv1(torch.cat([ir, vis], 1)))
        return torch.sigmoid(self.conv2(x))
