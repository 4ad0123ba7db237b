"""MetaFusionLogProcessor: phase in words, small values readable."""
from types import SimpleNamespace

from mmengine.logging import MessageHub

from tdfusion_mm.engine.runner import (PHASE_FUSION_TASK, PHASE_META,
                                      MetaFusionLogProcessor,
                                      MetaFusionTrainLoop)


def test_tiny_values_get_significant_digits():
    proc = MetaFusionLogProcessor()
    line = 'Epoch(train) [1][2/9]  hypergrad_max: 0.0000  loss: 0.5000'
    out = proc._reformat(line, 'hypergrad_max', 3.14159e-9)
    assert out == ('Epoch(train) [1][2/9]  hypergrad_max: 3.142e-09  '
                   'loss: 0.5000')
    # Values with two or more significant digits keep mmengine's format.
    assert proc._reformat(line, 'loss', 0.5) == line
    assert proc._reformat('  x: 0.0123', 'x', 0.0123) == '  x: 0.0123'
    assert proc._reformat('  x: 0.0012', 'x', 0.0012) == '  x: 1.200e-03'
    # A name that ends another name is not touched by mistake.
    assert proc._reformat('  a_x: 0.0000  x: 0.0000', 'x', 1e-6) == \
        '  a_x: 0.0000  x: 1.000e-06'


def test_phase_in_words():
    meta = SimpleNamespace(phase=PHASE_META, position=2, meta_steps=4)
    assert MetaFusionLogProcessor._phase_words(meta) == \
        'learning G, meta pair 3/4'
    fusion = SimpleNamespace(phase=PHASE_FUSION_TASK)
    assert MetaFusionLogProcessor._phase_words(fusion) == 'learning F and T'
    assert MetaFusionLogProcessor._phase_words(object()) == ''


def test_train_line_counts_meta_pairs_names_the_phase_keeps_small_values():
    loop = MetaFusionTrainLoop.__new__(MetaFusionTrainLoop)
    loop.meta_steps, loop.dataloader = 4, [None] * 6  # 10 iters per epoch
    loop._iter, loop._epoch, loop.phase = 2, 0, PHASE_META
    hub = MessageHub.get_instance('test_meta_fusion_log_processor')
    for key, value in (('hypergrad_max', 3.14159e-9), ('loss', 0.5),
                       ('phase', 1.0)):
        hub.update_scalar(f'train/{key}', value)
    runner = SimpleNamespace(message_hub=hub, iter=2, max_iters=10, epoch=0,
                             max_epochs=1, train_loop=loop, _train_loop=loop)
    tag, line = MetaFusionLogProcessor(window_size=1).get_log_after_iter(
        runner, 2, 'train')
    assert line.startswith('Epoch(train) [1][ 3/10]')
    assert '  hypergrad_max: 3.142e-09  loss: 0.5000' in line
    assert line.endswith('  phase: learning G, meta pair 3/4')
    assert tag['hypergrad_max'] == 3.14159e-9  # the scalar is unchanged
