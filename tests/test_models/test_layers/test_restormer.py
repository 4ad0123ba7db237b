"""Tests of the readable Restormer modules (norms, MDTA, GDFN, blocks)."""
import pytest
import torch
import torch.nn.functional as F

from tdfusion_mm.models.layers import (MDTA, TransformerBlock,
                                       WithBiasLayerNorm, transformer_blocks)


def test_layer_norm_matches_layer_norm_over_channels():
    torch.manual_seed(0)
    ln = WithBiasLayerNorm(16)
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    x = torch.randn(2, 16, 7, 9) * 3 + 1
    ref = F.layer_norm(x.permute(0, 2, 3, 1), (16, ), ln.weight, ln.bias,
                       eps=1e-5).permute(0, 3, 1, 2)
    torch.testing.assert_close(ln(x), ref, atol=1e-5, rtol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='num_heads 3'):
        MDTA(8, 3)


def test_transformer_blocks_keep_the_official_keys():
    blocks = transformer_blocks(2, 8, 2, band_pixels=0)
    assert all(type(b) is TransformerBlock for b in blocks)
    assert {k.split('.', 1)[0] for k in blocks.state_dict()} == {'0', '1'}
    assert '1.attn.qkv_dwconv.weight' in blocks.state_dict()
    x = torch.randn(1, 8, 5, 7)
    torch.testing.assert_close(blocks(x), blocks[1](blocks[0](x)))
