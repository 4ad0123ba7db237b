"""Pictures of training: sources, fused image and G's weights."""
import os
import os.path as osp
from typing import Optional

import cv2
import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from tdfusion_mm.registry import HOOKS
from tdfusion_mm.utils.model_wrappers import unwrap
from tdfusion_mm.visualization import fusion_panel

from .probe import read_probe


@HOOKS.register_module()
class FusionVisualizationHook(Hook):
    """Draw IR | visible | fused | w_ir panels while TDFusion trains.

    Before training, the hook keeps the first ``num_images`` images of the
    validation dataset (of the training dataset when there is no validation
    loop) as a fixed probe. Every ``interval`` training
    iterations it fuses the probe with the current F, runs G on it and
    draws one row per image: infrared, visible, fused (visible colour
    restored) and G's infrared weight ``w_ir`` as a JET colour map (blue 0,
    red 1). The picture goes

    - to mmengine's visualizer backends as ``fusion_panel`` at step
      ``iteration`` (``vis_data/vis_image/fusion_panel_<iter>.png`` with
      ``LocalVisBackend``; TensorBoard's image tab with
      ``TensorboardVisBackend``), and
    - to ``<work_dir>/<timestamp>/<out_dir>/iter_<iter>.png`` whatever the
      backends.

    Args:
        interval (int): Drawing interval in training iterations. Defaults
            to 50.
        num_images (int): Images of the probe, one row each. Defaults to 2.
        out_dir (str): Folder inside the run's log dir. Defaults to
            ``'fusion_panels'``.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 50,
                 num_images: int = 2,
                 out_dir: str = 'fusion_panels'):
        if interval < 1 or num_images < 1:
            raise ValueError('FusionVisualizationHook: interval and '
                             f'num_images must be >= 1, got {interval} and '
                             f'{num_images}')
        self.interval = interval
        self.num_images = num_images
        self.out_dir = out_dir
        self._probe: Optional[dict] = None

    def before_train(self, runner) -> None:
        model = unwrap(runner.model)
        for name in ('fuse', 'loss_weights', 'data_preprocessor'):
            if not hasattr(model, name):
                raise TypeError('FusionVisualizationHook needs a TDFusion '
                                f'model (with `{name}`); got '
                                f'{type(model).__name__}')
        loop = runner.val_loop
        dataloader = loop.dataloader if loop is not None \
            else runner.train_dataloader
        inputs = read_probe(model, dataloader, self.num_images)['inputs']
        self._probe = {key: inputs[key] for key in ('ir', 'vis')}

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self.draw(runner)

    @torch.no_grad()
    def draw(self, runner) -> Optional[np.ndarray]:
        """Draw the probe's panel now; returns it (RGB) on the main
        process."""
        if self._probe is None or not is_main_process():
            return None
        model = unwrap(runner.model)
        ir, vis_bgr = self._probe['ir'], self._probe['vis']
        fused = model.fuse(ir, vis_bgr)['image']
        w_ir = model.loss_weights(ir, vis_bgr)[:, :1]
        panel = np.concatenate([
            fusion_panel(ir[i], vis_bgr[i], fused[i], w_ir[i])
            for i in range(ir.shape[0])
        ], axis=0)
        step = runner.iter + 1
        runner.visualizer.add_image('fusion_panel', panel, step=step)
        out_dir = osp.join(runner.log_dir, self.out_dir)
        os.makedirs(out_dir, exist_ok=True)
        cv2.imwrite(osp.join(out_dir, f'iter_{step}.png'),
                    cv2.cvtColor(panel, cv2.COLOR_RGB2BGR))
        return panel
