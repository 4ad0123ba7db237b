"""F, G, the meta step and TDFusion's training step on a CUDA device, in
float32 and under autocast; skipped where no CUDA device is present. The
checks are those of tools/analysis_tools/device_check.py, at its full size.
"""
import copy

import pytest
import torch
from helpers import batches, build, changed, load_tool, state

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason='needs a CUDA device (none is present)'),
]
CUDA = torch.device('cuda')
LOW_DTYPES = [torch.float16, torch.bfloat16]


@pytest.fixture(scope='module')
def check():
    return load_tool('tools/analysis_tools/device_check.py')


def skip_unsupported(dtype):
    if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        pytest.skip('this CUDA device has no bfloat16')


def test_networks_forward_backward_and_forward_mode_match_the_cpu(check):
    with check.full_float32():
        result = check.check_networks(CUDA, check.SIZES[False])
    assert result['passed'], result


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_hypergradient_against_finite_differences(check, dtype):
    with check.full_float32():
        result = check.check_hypergradient(CUDA, dtype)
    assert result['passed'], result


def test_bands_give_the_whole_image_result(check):
    with check.full_float32():
        result = check.check_bands(CUDA, check.SIZES[False])
    assert result['passed'], result


@pytest.mark.parametrize('dtype', LOW_DTYPES)
def test_meta_pair_under_autocast_follows_the_float32_one(check, dtype):
    skip_unsupported(dtype)
    result = check.check_autocast(CUDA, dtype, check.SIZES[True])
    assert result['passed'], result


def test_train_step_with_a_plain_torch_task_network(check):
    result = check.check_train_step(CUDA, check.SIZES[False])
    assert result['passed'], result


@pytest.mark.parametrize('precision', ['float32', 'float16', 'bfloat16'])
def test_train_step_both_phases(demo_cfg, precision):
    """float16: ``tools/train.py --amp`` on a GPU
    (NonFiniteSkipAmpOptimWrapper, dynamic loss scaling for F and T);
    bfloat16: BF16OptimWrapper for F and T."""
    cfg = copy.deepcopy(demo_cfg)
    if precision == 'float16':
        load_tool('tools/train.py').use_amp(cfg, cuda=True)
    elif precision == 'bfloat16':
        skip_unsupported(torch.bfloat16)
        for key in ('fusion_backbone', 'task_model'):
            cfg.optim_wrapper[key]['type'] = 'tdfusion_mm.BF16OptimWrapper'
    cfg, model, optim = build(cfg)
    model.cuda().train()
    data = batches(cfg)
    g_before = state(model.loss_generator)
    log = model.train_step(dict(inner=data[0], outer=data[1]), optim)
    for key in ('loss_fusion', 'loss_task_meta', 'loss_task_lookahead',
                'hypergrad_max'):
        assert torch.isfinite(log[key]), (key, log)
    assert log['hypergrad_max'] > 0
    assert changed(g_before, model.loss_generator), "G's step is zero"
    log = model.train_step(data[2], optim)
    for key in ('loss_fusion', 'loss_task'):
        assert torch.isfinite(log[key]), (key, log)
    assert not any(w.nonfinite_skips for w in optim.values())
    assert all(torch.isfinite(p).all() for p in model.parameters())
