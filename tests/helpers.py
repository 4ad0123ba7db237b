"""Helpers shared by the tests: build the demo model, draw batches."""
import copy

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

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
