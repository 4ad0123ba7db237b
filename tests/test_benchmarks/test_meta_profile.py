"""The meta pair's profile: its parts add up to the pair, a frozen T takes
no look-ahead step, and the wrapped functions are restored."""
import pytest

import tdfusion_mm.models.meta.meta_step as meta_step
from tdfusion_mm.benchmarks import meta_profile, training_items


@pytest.mark.filterwarnings('ignore')
def test_parts_of_each_variant(monkeypatch):
    cfg, _, _ = training_items.TRAIN_SETUPS['demo']
    monkeypatch.setitem(training_items.TRAIN_SETUPS, 'demo',
                        (cfg, (32, 48), 32))
    virtual_step = meta_step.virtual_step
    rows = meta_profile.profile_variants('demo', pairs=1)
    assert meta_step.virtual_step is virtual_step
    assert set(rows) == {('trained', 0), ('trained', 2), ('frozen', 0),
                         ('frozen', 2)}
    names = [name for name, _ in meta_profile.PARTS]
    for (task, _), (pair, ) in rows.items():
        assert set(pair) == set(names) | {'total'}
        assert all(pair[n] >= 0 for n in names), pair
        assert sum(pair[n] for n in names) == pytest.approx(pair['total'])
        assert (pair['lookahead'] > 0) == (task == 'trained'), pair
        assert pair['hvp'] > 0 and pair['outer'] > 0


def test_split_pair_leaves_the_rest_to_outer_and_rest():
    parts = meta_profile.split_pair(
        dict(meta=5.0, inner=1.0, virtual=1.0, hvp=1.0, lookahead=2.0,
             generator_step=0.5), total=8.0)
    assert parts['outer'] == 2.0 and parts['rest'] == 0.5


def test_the_tool_prints_each_variant(monkeypatch, capsys):
    import argparse
    pair = dict({name: 0.1 for name, _ in meta_profile.PARTS}, total=0.7)
    rows = {(t, b): [pair] for t in ('trained', 'frozen') for b in (0, 2)}
    monkeypatch.setattr(meta_profile, 'profile_variants', lambda *a: rows)
    meta_profile.meta_profile_benchmark(argparse.Namespace(
        threads=1, setups=['demo'], runs=1, hessian_vector='exact'))
    out = capsys.readouterr().out
    assert out.count('per minute') == 4 and 'T frozen, batch 2' in out
    assert '0.700 s per pair, 85.7 per minute' in out
    assert out.startswith('lookahead: T\'s look-ahead step')
