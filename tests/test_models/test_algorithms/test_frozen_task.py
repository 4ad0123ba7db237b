"""A task network warm-started from a checkpoint and kept frozen."""
import copy

import pytest
import torch
from helpers import batches, build, changed, state
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch import nn

from tdfusion_mm.utils.checkpoint import load_task_state_dict


def frozen(demo_cfg):
    """The demo config with a frozen T, and the paper's F, G and swap (the
    set-up these tests were written for; the demo narrows F and G)."""
    cfg = copy.deepcopy(demo_cfg)
    cfg.optim_wrapper.task_model = None
    cfg.model.swap_modalities = True
    cfg.model.fusion_backbone = dict(type='ReFusion')
    cfg.model.loss_generator = dict(type='LossGenerationModule')
    return cfg


def calibrate_batchnorm(model, data_batches):
    """Give T the BatchNorm statistics of the batches, as a trained T has
    (an untrained T in eval mode has unit statistics: its losses run into
    the thousands and its box regression overflows)."""
    task = model.task_model
    for module in task.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # the average of the batches seen
    task.train()
    with torch.no_grad():
        for data in data_batches:
            batch = model.prepare(data)
            fused = model.fusion_backbone(batch.ir, batch.vis_y)
            model.task_losses(fused, batch.vis_bgr, batch.data_samples)
    task.eval()


def test_frozen_task_model_is_never_updated(demo_cfg, monkeypatch):
    cfg, model, optim = build(frozen(demo_cfg))
    assert 'task_model' not in optim, 'a frozen T needs no optimizer'

    def no_step(*args):
        raise AssertionError('a frozen T took a step')

    monkeypatch.setattr(model, 'train_task', no_step)
    data = batches(cfg, size=1)
    calibrate_batchnorm(model, data)
    t_before, g_before = state(model.task_model), state(model.loss_generator)
    model.train()
    log = model.train_step(dict(inner=data[0], outer=data[1]), optim)
    assert not any(p.requires_grad for p in model.task_model.parameters())
    model.train()
    assert model.fusion_backbone.training and model.loss_generator.training
    assert not any(m.training for m in model.task_model.modules())
    assert changed(g_before, model.loss_generator), ('G did not learn', log)
    assert torch.isfinite(log['loss_task_meta'])
    assert 'loss_task_lookahead' not in log
    f_before = state(model.fusion_backbone)
    log = model.train_step(data[2], optim)
    assert changed(f_before, model.fusion_backbone), 'F did not learn'
    assert 'loss_task' not in log
    # Weights and buffers (BatchNorm statistics) bit-identical.
    assert not changed(t_before, model.task_model)


def test_former_freeze_flag_names_what_to_write(demo_cfg):
    cfg = copy.deepcopy(demo_cfg)
    cfg.model.freeze_task_model = True
    with pytest.raises(KeyError, match='optim_wrapper.task_model=None'):
        build(cfg)


class RememberF(Hook):
    """Keeps F's weights at the start of training."""

    def __init__(self):
        self.initial = {}

    def before_train_epoch(self, runner):
        if not self.initial:
            self.initial.update(state(runner.model.fusion_backbone))


def mmengine_checkpoint(module, path):
    """A checkpoint as mmengine's CheckpointHook writes it (pickled history
    buffers of the message hub included)."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('frozen_task_test')
    hub.update_scalar('train/loss', 1.5)
    torch.save(dict(meta=dict(epoch=1, iter=3),
                    state_dict={k: v.clone()
                                for k, v in module.state_dict().items()},
                    message_hub=hub.state_dict()), path)


def test_warm_start_loads_strictly_and_names_keys(demo_cfg, tmp_path):
    _, source, _ = build(demo_cfg, seed=1)
    path = str(tmp_path / 'task.pth')
    mmengine_checkpoint(source.task_model, path)
    cfg = frozen(demo_cfg)
    cfg.model.task_checkpoint = path
    _, model, _ = build(cfg, seed=2)
    assert changed(state(source.task_model), model.task_model)
    model.init_weights()  # T from the checkpoint, not its own init
    assert not changed(state(source.task_model), model.task_model)

    # Keys that do not fit are named, with the file.
    state_dict = dict(source.task_model.state_dict())
    state_dict['extra.weight'] = torch.zeros(1)
    del state_dict['bbox_head.multi_level_conv_cls.0.bias']
    torch.save(dict(state_dict=state_dict), path)
    with pytest.raises(KeyError) as err:
        load_task_state_dict(model.task_model, path)
    message = str(err.value)
    assert path in message and 'extra.weight' in message
    assert 'bbox_head.multi_level_conv_cls.0.bias' in message
    state_dict = dict(source.task_model.state_dict())
    state_dict['bbox_head.multi_level_conv_cls.0.bias'] = torch.zeros(7)
    torch.save(state_dict, path)
    with pytest.raises(RuntimeError, match='shapes differ'):
        load_task_state_dict(model.task_model, path)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_task_state_dict(model.task_model, str(tmp_path / 'missing.pth'))


def test_training_run_keeps_a_warm_started_frozen_task_model(
        demo_cfg, demo_root, tmp_path):
    """A whole run (the loop's train() calls, both phases, validation and
    hooks): T ends bit-identical to its checkpoint."""
    cfg, source, _ = build(demo_cfg, seed=1)
    calibrate_batchnorm(source, batches(cfg))
    path = str(tmp_path / 'task.pth')
    mmengine_checkpoint(source.task_model, path)
    cfg = frozen(demo_cfg)
    cfg.model.task_checkpoint = path
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.meta_steps = 1
    cfg.train_dataloader.batch_size = 3
    cfg.train_cfg.val_interval = 2  # no validation
    cfg.custom_hooks = [dict(type='LearnableFusionLossHook', interval=1),
                        dict(type='SafeCheckpointHook')]
    cfg.default_hooks.checkpoint.interval = 1
    runner = Runner.from_cfg(cfg)
    remember = RememberF()
    runner.register_hook(remember, priority='VERY_LOW')
    runner.train()
    model = runner.model
    assert not changed(state(source.task_model), model.task_model)
    assert changed(remember.initial, model.fusion_backbone)
    assert 'task_model' not in runner.optim_wrapper


def test_a_child_config_freezes_t_by_its_optimizer_key(tmp_path):
    from helpers import REPO
    from mmengine.config import Config
    child = tmp_path / 'frozen.py'
    child.write_text(f"_base_ = '{REPO}/configs/tdfusion_yolo_demo.py'\n"
                     'optim_wrapper = dict(task_model=None)\n')
    cfg = Config.fromfile(str(child))
    assert cfg.optim_wrapper.task_model is None
    assert cfg.optim_wrapper.fusion_backbone.optimizer.lr == 1e-3
