"""Broken checkpoints are reported with their name and what is wrong;
``--resume`` falls back from a bad ``last_checkpoint``; temporary files of
killed writes are removed."""
import copy
import io
import os
import os.path as osp
import re
import subprocess
import sys
import time

import pytest
import torch
from helpers import build, finish_tool, start_tool
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import _load_checkpoint

from tdfusion_mm.engine import use_checkpoint_io
from tdfusion_mm.utils.checkpoint import (CheckpointError,
                                          ResumeMismatchError,
                                          check_resume_fits, check_state_fits,
                                          find_resume_checkpoint,
                                          load_checkpoint_file,
                                          use_checked_checkpoint_loader)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class NotATensor:
    pass


def save(path, step=1):
    torch.save(dict(meta=dict(iter=step), state_dict=dict(
        w=torch.full((64, ), float(step)))), str(path))
    return str(path)


def broken_files(folder):
    """Files that are not usable checkpoints, and the cause to report."""
    good = save(folder / 'good.pth')
    data = open(good, 'rb').read()
    pickled = io.BytesIO()
    torch.save(dict(state_dict=NotATensor()), pickled)
    cases = dict(empty=(b'', 'empty'),
                 truncated=(data[:len(data) // 2], 'truncated'),
                 text=(b'hello, not a checkpoint\n', 'not a PyTorch'),
                 image=(b'\x89PNG\r\n\x1a\n' + bytes(64), 'not a PyTorch'),
                 pickled=(pickled.getvalue(), 'pickled Python objects'))
    for name, (content, _) in cases.items():
        (folder / f'{name}.pth').write_bytes(content)
    return {str(folder / f'{name}.pth'): cause
            for name, (_, cause) in cases.items()}


def test_broken_checkpoints_are_named_with_their_cause(tmp_path):
    use_checked_checkpoint_loader()
    for path, cause in broken_files(tmp_path).items():
        with pytest.raises(CheckpointError) as info:
            load_checkpoint_file(path)
        assert path in str(info.value) and cause in str(info.value), (
            path, str(info.value))
        # mmengine's loader (resume, load_from, tools/test.py) too.
        with pytest.raises(CheckpointError, match=cause):
            _load_checkpoint(path, map_location='cpu')
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        _load_checkpoint(str(tmp_path / 'missing.pth'))


def test_resume_falls_back_from_a_bad_last_checkpoint(tmp_path):
    older = save(tmp_path / 'iter_1.pth', 1)
    time.sleep(0.02)
    newest = save(tmp_path / 'iter_2.pth', 2)
    record = tmp_path / 'last_checkpoint'
    record.write_text(newest)
    assert find_resume_checkpoint(str(tmp_path)) == newest
    record.write_text('')  # mmengine writes it non-atomically
    assert find_resume_checkpoint(str(tmp_path)) == newest
    record.write_text(str(tmp_path / 'iter_3.pth'))  # dangling
    assert find_resume_checkpoint(str(tmp_path)) == newest
    # A newest checkpoint that does not load is passed over.
    time.sleep(0.02)
    (tmp_path / 'iter_3.pth').write_bytes(b'')
    assert find_resume_checkpoint(str(tmp_path)) == newest
    os.remove(newest)
    assert find_resume_checkpoint(str(tmp_path)) == older
    os.remove(older)
    assert find_resume_checkpoint(str(tmp_path)) is None
    assert find_resume_checkpoint(str(tmp_path / 'nowhere')) is None


def test_next_save_removes_temp_files_of_killed_writes(tmp_path):
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    stale = tmp_path / f'iter_4.pth.tmp-{dead.pid}'
    stale.write_bytes(b'')
    live = tmp_path / f'iter_4.pth.tmp-{os.getppid()}'  # a running process
    live.write_bytes(b'')
    use_checkpoint_io()
    backend = get_file_backend(str(tmp_path),
                               backend_args=dict(backend='atomic_local'))
    backend.put(b'checkpoint', str(tmp_path / 'iter_5.pth'))
    assert sorted(os.listdir(tmp_path)) == sorted(
        ['iter_5.pth', live.name])


def one_error_line(proc):
    """The single ``error:`` line of a tool that failed with status 1 and
    printed no traceback."""
    out = finish_tool(proc, expect_ok=False)
    assert proc.returncode == 1 and 'Traceback' not in out, out[-3000:]
    errors = [line for line in out.splitlines() if line.startswith('error:')]
    assert len(errors) == 1, out[-2000:]
    return errors[0]


def test_tools_report_bad_checkpoints_in_one_line(demo_root, demo_cfg,
                                                  tmp_path):
    """tools/test.py CKPT and tools/train.py --resume CKPT with a truncated
    file, tools/test.py with another model's checkpoint (mmengine would
    load nothing, warn, and test random weights) and tools/train.py
    --resume with a checkpoint of another F width (mmengine would load what
    fits and fail in the optimizer): one line naming the file and the
    cause, no traceback unless asked for. The five runs start together."""
    broken = tmp_path / 'epoch_1.pth'
    content = open(save(tmp_path / 'good.pth'), 'rb').read()
    broken.write_bytes(content[:len(content) // 2])
    other = save(tmp_path / 'other.pth')  # a state dict of one key, 'w'
    wide_cfg = copy.deepcopy(demo_cfg)
    wide_cfg.model.fusion_backbone.dim = 16
    _, wide, wide_optim = build(wide_cfg)
    wide_path = str(tmp_path / 'wide.pth')
    torch.save(dict(meta=dict(epoch=0, iter=1), state_dict=wide.state_dict(),
                    optimizer=wide_optim.state_dict()), wide_path)
    config = osp.join(REPO, 'configs', 'tdfusion_yolo_demo.py')
    root = f'{demo_root}/m3fd/'
    options = ['--cfg-options', f'train_dataloader.dataset.data_root={root}',
               f'val_dataloader.dataset.data_root={root}',
               f'test_dataloader.dataset.data_root={root}']

    def start(name, tool, *args, env=None):
        work = ['--work-dir', str(tmp_path / name)]
        return start_tool([osp.join(REPO, 'tools', f'{tool}.py'), config,
                           *args] + work + options, env=env, threads=1)

    test_broken = start('test_broken', 'test', str(broken))
    train_broken = start('train_broken', 'train', '--resume', str(broken))
    test_other = start('test_other', 'test', str(other))
    debug = start('debug', 'test', str(broken), env={'TDFUSION_DEBUG': '1'})
    train_wide = start('train_wide', 'train', '--resume', wide_path)

    for proc in (test_broken, train_broken):
        error = one_error_line(proc)
        assert str(broken) in error and 'truncated' in error, error
    error = one_error_line(test_other)
    assert f'checkpoint {other} does not fit the model of' in error
    assert "unexpected keys 1 ['w']" in error
    assert "'fusion_backbone." in error  # among the missing keys
    assert 'Traceback' in finish_tool(debug, expect_ok=False)
    error = one_error_line(train_wide)
    assert error.startswith(f'error: Cannot resume from {wide_path} with '
                            f'{config}: the checkpoint does not fit the '
                            'model: '), error
    assert re.search(r'and \d+ more$', error), error


def test_check_state_fits_names_keys_and_shapes():
    own = {'a.w': torch.zeros(2), 'task_model.w': torch.zeros(3)}
    check_state_fits(own, dict(own), 'ckpt', 'the model')
    # Keys under may_miss may be missing, no others.
    check_state_fits(own, {'a.w': torch.zeros(2)}, 'ckpt', 'the model',
                     may_miss='task_model.')
    with pytest.raises(KeyError, match=r"missing keys 1 \['a.w'\]; "
                       r"unexpected keys 1 \['b'\]"):
        check_state_fits(own, {'task_model.w': torch.zeros(3),
                               'b': torch.zeros(1)}, 'ckpt', 'the model',
                         may_miss='task_model.')
    with pytest.raises(RuntimeError, match=r"^ckpt does not fit the model: "
                       r"1 shapes differ \(its vs theirs\): "
                       r"\['a.w: \(5,\) vs \(2,\)'\]$"):
        check_state_fits(own, {'a.w': torch.zeros(5),
                               'task_model.w': torch.zeros(3)}, 'ckpt',
                         'the model')
    # Many differences: one line, the first few and a count of the rest.
    wide = {f'k{i:02d}': torch.zeros(2) for i in range(40)}
    with pytest.raises(RuntimeError) as info:
        check_state_fits(wide, {k: torch.zeros(3) for k in wide}, 'c', 'm')
    assert str(info.value).endswith(
        "m: 40 shapes differ (its vs theirs): ['k00: (3,) vs (2,)', "
        "'k01: (3,) vs (2,)', 'k02: (3,) vs (2,)'] and 37 more")
    with pytest.raises(KeyError) as info:
        check_state_fits(wide, {'x': torch.zeros(1)}, 'c', 'm')
    assert info.value.args[0] == (
        "c does not fit m: missing keys 40 ['k00', 'k01', 'k02', 'k03'] and "
        "36 more; unexpected keys 1 ['x']")
    with pytest.raises(KeyError) as info:  # no empty part
        check_state_fits(wide, dict(wide, x=torch.zeros(1)), 'c', 'm')
    assert info.value.args[0] == "c does not fit m: unexpected keys 1 ['x']"


def test_resume_refuses_another_model_or_optimizer_layout(demo_cfg):
    """Another F width, another number of classes, another optimizer
    layout: one line naming the checkpoint, the config and the first
    differences, before anything is loaded."""
    _, model, optim = build(demo_cfg)
    fits = dict(state_dict=model.state_dict(), optimizer=optim.state_dict())
    check_resume_fits(fits, model, optim, 'a.pth', 'demo.py')

    def refused(checkpoint):
        with pytest.raises(ResumeMismatchError) as info:
            check_resume_fits(checkpoint, model, optim, 'a.pth', 'demo.py')
        message = str(info.value)
        assert message.startswith('Cannot resume from a.pth with demo.py: ')
        assert '\n' not in message and len(message) < 600, message
        return message

    wide = copy.deepcopy(demo_cfg)
    wide.model.fusion_backbone.dim = 16
    _, wide_model, _ = build(wide)
    message = refused(dict(state_dict=wide_model.state_dict()))
    assert re.search(r'the checkpoint does not fit the model: \d+ shapes '
                     r'differ \(its vs theirs\): \[.*\] and \d+ more$',
                     message), message
    classes = copy.deepcopy(demo_cfg)
    classes.model.task_model.cfg_options.bbox_head.num_classes = 6
    _, six, _ = build(classes)
    assert 'bbox_head.multi_level_conv_cls.0.weight: (6, ' in refused(
        dict(state_dict=six.state_dict()))

    groups = copy.deepcopy(fits)
    del groups['optimizer']['task_model']['param_groups'][0]['params'][-1]
    assert re.search(r"optimizer 'task_model': parameter groups of \[\d+\] "
                     r'vs \[\d+\] parameters', refused(groups))
    state = copy.deepcopy(fits)
    state['optimizer']['fusion_backbone']['state'] = {
        0: dict(step=torch.tensor(1.), exp_avg=torch.zeros(99))}
    assert "optimizer 'fusion_backbone': state 'exp_avg' of parameter 0 " \
        '(99,) vs' in refused(state)
    del state['optimizer']['loss_generator']
    assert "optimizers ['fusion_backbone', 'task_model'] vs [" in refused(
        state)
