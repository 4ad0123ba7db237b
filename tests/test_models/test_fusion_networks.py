"""Tests of the fusion network F (ReFusion) and the loss generation module G
(LPN); the official layout they are compared with is in
``tests/official_layout.py``."""
import pytest
import torch
from official_layout import (LAYOUTS, OFFICIAL_LPN_PARAMS,
                             OFFICIAL_REFUSION_PARAMS, count_params,
                             random_pair)

from tdfusion_mm.models.fusion_backbones import ReFusion
from tdfusion_mm.models.loss_generators import LossGenerationModule
from tdfusion_mm.registry import MODELS

torch.set_num_threads(2)

SIZES = [(24, 40), (37, 53), (1, 1), (5, 3), (17, 64)]

# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_parameter_counts_equal_official():
    assert count_params(ReFusion()) == OFFICIAL_REFUSION_PARAMS
    assert count_params(LossGenerationModule()) == OFFICIAL_LPN_PARAMS
    # Second derivation: the official layout tables (shared conv weights
    # counted once, as nn.Module.parameters() does).
    for net, expected in (('refusion', OFFICIAL_REFUSION_PARAMS),
                          ('lpn', OFFICIAL_LPN_PARAMS)):
        total = sum(torch.Size(s).numel() for _, s, _ in LAYOUTS[net])
        assert total == expected, net


def test_build_from_registry():
    fuse = MODELS.build(dict(type='ReFusion'))
    gen = MODELS.build(dict(type='LossGenerationModule'))
    assert type(fuse) is ReFusion
    assert type(gen) is LossGenerationModule
    assert count_params(fuse) == OFFICIAL_REFUSION_PARAMS
    assert count_params(gen) == OFFICIAL_LPN_PARAMS


def eval_output(cls, size):
    """A default ``cls`` in eval mode on a random pair (batch 2)."""
    torch.manual_seed(0)
    model = cls().eval()
    ir, vis = random_pair(*size, b=2)
    with torch.no_grad():
        return ir, model(ir, vis)


@pytest.mark.parametrize('size', SIZES)
def test_refusion_shape_and_range(size):
    ir, out = eval_output(ReFusion, size)
    assert out.shape == ir.shape
    assert out.dtype == ir.dtype
    assert torch.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize('size', SIZES)
def test_lpn_shape_and_normalised(size):
    _, w = eval_output(LossGenerationModule, size)
    assert w.shape == (2, 2) + tuple(size)
    assert (w >= 0).all() and (w <= 1).all()
    torch.testing.assert_close(
        w.sum(1), torch.ones(2, *size), atol=1e-6, rtol=0)


def test_rejects_mismatched_inputs():
    with pytest.raises(ValueError):
        ReFusion()(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))
    with pytest.raises(ValueError):
        LossGenerationModule()(torch.rand(1, 2, 8, 8), torch.rand(1, 2, 8, 8))


@pytest.mark.parametrize('cls', [ReFusion, LossGenerationModule])
def test_gradients_reach_every_parameter(cls):
    torch.manual_seed(0)
    model = cls()
    ir, vis = random_pair(24, 40)
    out = model(ir, vis)
    # Random weighting: the plain sum of G's softmax output is constant.
    loss = (out * torch.randn_like(out)).sum()
    loss.backward()
    dead = [n for n, p in model.named_parameters()
            if p.grad is None or not torch.any(p.grad != 0)]
    assert not dead, f'no gradient reaches {dead}'


def test_centred_logits_level_is_the_balance():
    """With ``centre_logits`` each image's mean logit difference is the
    learned ``balance``; the official layout's keys are unchanged."""
    torch.manual_seed(0)
    official = LossGenerationModule(dim=4, num_blocks=1, num_heads=1)
    centred = LossGenerationModule(dim=4, num_blocks=1, num_heads=1,
                                   centre_logits=True)
    assert set(centred.state_dict()) - set(official.state_dict()) == \
        {'balance'}
    centred.load_state_dict(official.state_dict(), strict=False)
    with torch.no_grad():
        centred.balance.fill_(0.7)
    ir, vis = random_pair(24, 40, b=2)
    w = centred(ir, vis)
    assert torch.allclose(w.sum(1), torch.ones(2, 24, 40))
    level = torch.logit(w[:, 0], eps=1e-6).mean((1, 2))
    assert torch.allclose(level, torch.full((2, ), 0.7), atol=1e-4), level
    # The spatial pattern is the official one's, shifted per image.
    w_official = official(ir, vis)
    diff = torch.logit(w_official[:, 0]) - torch.logit(w[:, 0])
    assert diff.std((1, 2)).max() < 1e-4, diff.std((1, 2))
