"""The batch TDFusion trains on: luma, fusion-loss crops, modality swap."""
import copy
from typing import NamedTuple

import torch
from torch import Tensor

from tdfusion_mm.utils.colour import luma


class FusionBatch(NamedTuple):
    """A preprocessed batch, possibly doubled by the modality swap.

    Attributes:
        ir: The infrared at task size, (B, 1, H, W) in [0, 1].
        vis_y: The visible image's luma (Y), (B, 1, H, W) in [0, 1].
        vis_bgr: The visible image as loaded (B, C, H, W), BGR (C=3) or grey
            (C=1), for the chroma.
        ir_crop, vis_y_crop: Infrared and visible-luma crops for the fusion
            loss.
        data_samples: The task's data samples (one per image).
    """
    ir: Tensor
    vis_y: Tensor
    vis_bgr: Tensor
    ir_crop: Tensor
    vis_y_crop: Tensor
    data_samples: list


def fusion_batch(inputs: dict, data_samples: list,
                 swap_modalities: bool) -> FusionBatch:
    """The batch of a data preprocessor's output.

    Args:
        inputs (dict): ``ir`` and ``vis`` (BGR or grey), optionally
            ``ir_crop`` and ``vis_crop`` (the whole images without them).
        data_samples (list): The task's data samples.
        swap_modalities (bool): Append the batch with infrared and visible
            luma exchanged (the visible images and copies of the samples
            appended unchanged).

    Returns:
        FusionBatch: The batch, in luma.
    """
    ir, vis_bgr = inputs['ir'], inputs['vis']
    vis_y = luma(vis_bgr)
    ir_crop = inputs.get('ir_crop', ir)
    vis_y_crop = luma(inputs['vis_crop']) \
        if 'vis_crop' in inputs else vis_y
    if swap_modalities:
        ir, vis_y = torch.cat([ir, vis_y]), torch.cat([vis_y, ir])
        ir_crop, vis_y_crop = (torch.cat([ir_crop, vis_y_crop]),
                               torch.cat([vis_y_crop, ir_crop]))
        vis_bgr = torch.cat([vis_bgr, vis_bgr])
        data_samples = list(data_samples) + copy.deepcopy(list(data_samples))
    return FusionBatch(ir, vis_y, vis_bgr, ir_crop, vis_y_crop, data_samples)
