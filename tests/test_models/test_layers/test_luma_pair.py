"""check_luma_pair: the input check of F, G and the fixed weights."""
import re

import pytest
import torch

from tdfusion_mm.models.fusion_backbones import ReFusion
from tdfusion_mm.models.layers import check_luma_pair
from tdfusion_mm.models.loss_generators import (FixedLossWeights,
                                                LossGenerationModule)


def test_accepts_a_pair_of_single_channel_batches():
    check_luma_pair(torch.zeros(2, 1, 5, 7), torch.zeros(2, 1, 5, 7))


@pytest.mark.parametrize('ir_shape, vis_shape', [
    ((1, 1, 8, 8), (1, 1, 8, 6)),  # sizes differ
    ((1, 3, 8, 8), (1, 3, 8, 8)),  # colour instead of luma
    ((1, 8, 8), (1, 8, 8)),  # no batch dimension
])
@pytest.mark.parametrize('network', [
    lambda: ReFusion(dim=8, num_blocks=1, num_heads=2),
    lambda: LossGenerationModule(dim=8, num_blocks=1, num_heads=2),
    FixedLossWeights,
])
def test_networks_name_both_shapes_in_the_error(network, ir_shape,
                                                vis_shape):
    message = re.escape(f'(B, 1, H, W), got {ir_shape} and {vis_shape}')
    with pytest.raises(ValueError, match=message):
        network()(torch.zeros(ir_shape), torch.zeros(vis_shape))
