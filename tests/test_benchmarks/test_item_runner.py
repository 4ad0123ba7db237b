"""Every benchmark item builds and runs (in process, at tiny sizes)."""
import pytest

from tdfusion_mm.benchmarks import build_step, training_items

TRAIN_KINDS = ('plain', 'meta', 'ft', 'meta-frozen', 'ft-frozen')
ITEMS = ([f'fuse:{impl}:32x48'
          for impl in ('fast', 'whole', 'onnx', 'eager', 'light')]
         + [f'{kind}:demo' for kind in TRAIN_KINDS]
         + ['ft:demo_seg'])


@pytest.fixture
def tiny_setups(monkeypatch):
    """The setups at 32x48 with 32x32 crops (their configs' networks)."""
    setups = {name: (cfg, (32, 48), 32)
              for name, (cfg, _, _) in training_items.TRAIN_SETUPS.items()}
    monkeypatch.setattr(training_items, 'TRAIN_SETUPS', setups)


@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('item', ITEMS)
def test_every_item_runs(item, tiny_setups):
    build_step(item, band_pixels=16 * 48, batch_size=1)()
