"""``tools/train.py --amp`` on the CPU: bfloat16 autocast through both
phases of the demo config."""
import copy
import math
import os.path as osp
import re

import pytest
import torch
from helpers import (REPO, batches, build, changed, demo_data_options,
                     load_tool, run_tool, state)
from torch import nn

OPTIM_KEYS = ('fusion_backbone', 'loss_generator', 'task_model')


def first_conv(module):
    return next(m for m in module.modules() if isinstance(m, nn.Conv2d))


def test_amp_runs_both_phases_in_bfloat16_with_the_meta_step_in_float32(
        demo_cfg):
    cfg = copy.deepcopy(demo_cfg)
    load_tool('tools/train.py').use_amp(cfg, cuda=False)
    cfg, model, optim = build(cfg)
    assert [type(optim[k]).__name__ for k in OPTIM_KEYS] == [
        'BF16OptimWrapper', 'NonFiniteSkipOptimWrapper', 'BF16OptimWrapper']
    seen = []
    for name, net in (('F', model.fusion_backbone), ('T', model.task_model)):
        first_conv(net).register_forward_hook(
            lambda _m, _i, out, name=name: seen.append((name, out.dtype)))
    data = batches(cfg)
    model.train()
    for inner, outer in ((data[0], data[1]), (data[1], data[2])):
        g_before = state(model.loss_generator)
        seen.clear()
        log = model.train_step(dict(inner=inner, outer=outer), optim)
        for key in ('loss_fusion', 'loss_task_meta', 'loss_task_lookahead'):
            assert torch.isfinite(log[key]), (key, log[key])
        assert 0 < log['hypergrad_max'] < math.inf
        moved = changed(g_before, model.loss_generator)
        assert moved, "G's step is zero"
        assert all(torch.isfinite(p).all()
                   for p in model.loss_generator.parameters())
        # T's look-ahead step (on F's fusion) in bfloat16; then the meta
        # step (F's virtual step, T on the stepped F's fusion) in float32.
        assert seen[:2] == [('F', torch.bfloat16), ('T', torch.bfloat16)]
        assert set(seen[2:]) == {('F', torch.float32), ('T', torch.float32)}
    for batch in data[:2]:
        seen.clear()
        log = model.train_step(batch, optim)
        for key in ('loss_fusion', 'loss_task'):
            assert torch.isfinite(log[key]), (key, log[key])
        assert set(seen) == {('F', torch.bfloat16), ('T', torch.bfloat16)}
    assert not any(optim[k].nonfinite_skips for k in OPTIM_KEYS)


def test_train_tool_amp_on_cpu(demo_root, tmp_path):
    """Before, mmengine's AmpOptimWrapper refused a machine without GPU."""
    work_dir = str(tmp_path / 'amp')
    out = run_tool([
        osp.join(REPO, 'tools', 'train.py'),
        osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py'), '--amp',
        '--work-dir', work_dir, '--cfg-options'
    ] + demo_data_options(f'{demo_root}/m3fd/') + [
        'train_cfg.max_epochs=1', 'train_cfg.meta_steps=2',
        'train_cfg.val_begin=2', 'default_hooks.logger.interval=1'
    ])
    assert 'phase: learning G, meta pair 2/2' in out, out[-3000:]
    assert 'phase: learning F and T' in out, out[-3000:]
    assert 'non-finite' not in out, out[-3000:]
    for key in ('loss_task_meta', 'hypergrad_max', 'loss_fusion_grad',
                'loss_cls'):
        values = [float(v) for v in re.findall(rf'{key}: (\S+)', out)]
        assert values and all(math.isfinite(v) for v in values), (key, out)
    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=True)
    assert set(ckpt['optimizer']) == set(OPTIM_KEYS)


def test_a_loss_scaling_wrapper_for_g_is_refused(demo_cfg):
    """A loss scaler would unscale (or refuse) G's directly set gradient."""
    from mmengine.optim import AmpOptimWrapper
    cfg, model, optim = build(demo_cfg)
    # AmpOptimWrapper's constructor refuses a machine without GPU.
    optim.optim_wrappers['loss_generator'] = AmpOptimWrapper.__new__(
        AmpOptimWrapper)
    data = batches(cfg)
    with pytest.raises(TypeError, match='must not be an AmpOptimWrapper'):
        model.train_step(dict(inner=data[0], outer=data[1]), optim)
