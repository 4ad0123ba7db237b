"""T's input: F's fused luma as T's image, and T's loss on it (NaN, without
running T, for a non-finite fused batch)."""
from typing import Dict

import torch
from mmengine.logging import print_log
from torch import Tensor, nn

from tdfusion_mm.utils.colour import restore_colour
from tdfusion_mm.utils.model_wrappers import unwrap


def task_image(fused: Tensor, vis_bgr: Tensor, in_channels: int,
               fusion_backbone: nn.Module) -> Tensor:
    """What T takes: fused luma (B,1) or colour (B,3), in [0, 255].

    Args:
        fused (Tensor): F's fused luma (B, 1, H, W) in [0, 1].
        vis_bgr (Tensor): The visible image (B, C, H, W), BGR or grey.
        in_channels (int): T's input channels, 1 or 3.
        fusion_backbone (nn.Module): F. One whose output the visible
            colour does not fit (``keeps_visible_colour=False``, e.g. the
            infrared passed through), or a grey visible image, gives grey.
    """
    if in_channels == 1:
        return fused * 255
    if vis_bgr.shape[1] == 3 and getattr(
            unwrap(fusion_backbone), 'keeps_visible_colour', True):
        return restore_colour(fused, vis_bgr) * 255
    return fused.expand(-1, 3, -1, -1) * 255


def task_data(task_model: nn.Module, images: Tensor, data_samples: list,
              training: bool) -> dict:
    """T's data preprocessor applied to task images and their samples."""
    return unwrap(task_model).data_preprocessor(
        dict(inputs=images, data_samples=data_samples), training)


def task_losses(task_model: nn.Module, fused: Tensor, vis_bgr: Tensor,
                data_samples: list, in_channels: int,
                fusion_backbone: nn.Module) -> Dict[str, Tensor]:
    """T's loss dict on the task images of ``fused`` (see
    :func:`task_image`).

    Non-finite fused images never reach T (a detector's assigner fails on
    them before any loss exists): the loss is then NaN, which the optimizer
    wrapper counts as a skipped update of whatever it would have trained (T,
    or G through the meta step)."""
    if not torch.isfinite(fused).all():
        return nonfinite_fusion_loss(fused)
    data = task_data(task_model,
                     task_image(fused, vis_bgr, in_channels, fusion_backbone),
                     data_samples, True)
    return task_model(data['inputs'], data['data_samples'], mode='loss')


def nonfinite_fusion_loss(fused: Tensor) -> Dict[str, Tensor]:
    """A NaN task loss standing for T's on a non-finite fused batch
    (connected to ``fused``'s graph, so that the meta step runs on)."""
    print_log('TDFusion: non-finite fused image, the task network is '
              'not run on this batch', logger='current', level=30)
    return dict(loss=fused.sum() * float('nan'))
