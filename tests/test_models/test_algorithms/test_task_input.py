"""T's input: the task image of a fused luma, and the NaN loss standing for
T's on a non-finite fused batch."""
import torch
from torch import nn

from tdfusion_mm.models.algorithms.task_input import (
    nonfinite_fusion_loss, task_image)
from tdfusion_mm.utils.colour import restore_colour


class NoColour(nn.Module):
    keeps_visible_colour = False


def test_task_image_channels_and_colour():
    torch.manual_seed(0)
    fused, vis = torch.rand(2, 1, 4, 5), torch.rand(2, 3, 4, 5)
    colour = task_image(fused, vis, 3, nn.Identity())
    torch.testing.assert_close(colour, restore_colour(fused, vis) * 255)
    assert not torch.equal(colour[:, 0], colour[:, 2])
    grey = fused.expand(-1, 3, -1, -1) * 255
    assert torch.equal(task_image(fused, vis, 3, NoColour()), grey)
    assert torch.equal(task_image(fused, vis[:, :1], 3, nn.Identity()), grey)
    assert torch.equal(task_image(fused, vis, 1, nn.Identity()), fused * 255)


def test_nonfinite_fusion_loss_is_nan_on_the_graph():
    fused = torch.full((1, 1, 2, 2), float('inf'), requires_grad=True)
    loss = nonfinite_fusion_loss(fused)['loss']
    assert torch.isnan(loss) and loss.requires_grad
    loss.backward()
    assert fused.grad is not None
