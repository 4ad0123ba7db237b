"""SafeCheckpointHook: checkpoints that load with weights_only=True."""
import io

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from tdfusion_mm.engine.hooks.safe_checkpoint_hook import (SafeCheckpointHook,
                                                           from_safe, to_safe)


def checkpoint_with_message_hub():
    hub = MessageHub('safe_checkpoint_hook_test')
    for value in (1.0, 2.0, 4.0):
        hub.update_scalar('train/loss', value)
    hub.update_info('iter', np.int64(3))
    return dict(meta=dict(seed=np.int64(7), arr=np.arange(3)),
                message_hub=hub.state_dict(),
                state_dict=dict(w=torch.ones(2)))


def weights_only_load(checkpoint):
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_message_hub_without_the_hook_is_refused_weights_only():
    with pytest.raises(Exception, match='[Ww]eights only load failed'):
        weights_only_load(checkpoint_with_message_hub())


def test_saved_checkpoint_loads_weights_only_and_history_comes_back():
    hook = SafeCheckpointHook()
    checkpoint = checkpoint_with_message_hub()
    hook.before_save_checkpoint(None, checkpoint)
    loaded = weights_only_load(checkpoint)
    assert loaded['meta']['seed'] == 7 and isinstance(loaded['meta']['seed'],
                                                      int)
    assert torch.equal(loaded['meta']['arr'], torch.arange(3))
    hook.after_load_checkpoint(None, loaded)
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(history, HistoryBuffer)
    assert history.data[0].tolist() == [1.0, 2.0, 4.0]
    assert history.mean() == pytest.approx(7 / 3)
    assert loaded['message_hub']['runtime_info']['iter'] == 3


def test_to_safe_keeps_containers_and_from_safe_inverts_it():
    buffer = HistoryBuffer([0.5, 1.5], [1, 2], max_length=5)
    safe = to_safe(dict(hub=dict(loss=buffer),
                        values=[np.float32(2.5), 'x'], pair=(1, np.int64(2))))
    assert safe['values'] == [2.5, 'x'] and safe['pair'] == (1, 2)
    assert isinstance(safe['pair'], tuple)
    assert not isinstance(safe['hub']['loss'], HistoryBuffer)
    back = from_safe(safe)['hub']['loss']
    assert isinstance(back, HistoryBuffer) and back.max_length == 5
    assert back.data[0].tolist() == [0.5, 1.5]
    assert back.data[1].tolist() == [1, 2]
