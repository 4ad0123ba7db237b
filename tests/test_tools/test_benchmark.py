"""tools/analysis_tools/benchmark.py: every item builds and runs (in
process, at tiny sizes), the driver prints its table, and the two A/B modes
report both sides."""
import argparse
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch

from helpers import load_tool, run_tool

benchmark = load_tool('tools/analysis_tools/benchmark.py')
TRAIN_KINDS = ('plain', 'meta', 'ft', 'meta-frozen', 'ft-frozen')
ITEMS = ([f'fuse:{impl}:32x48'
          for impl in ('fast', 'whole', 'onnx', 'eager', 'light')]
         + [f'{kind}:demo' for kind in TRAIN_KINDS]
         + ['ft:demo_seg'])


@pytest.fixture
def tiny_setups(monkeypatch):
    """The setups at 32x48 with 32x32 crops (their configs' networks)."""
    setups = {name: (cfg, (32, 48), 32)
              for name, (cfg, _, _) in benchmark.TRAIN_SETUPS.items()}
    monkeypatch.setattr(benchmark, 'TRAIN_SETUPS', setups)


@pytest.fixture
def keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('item', ITEMS)
def test_every_item_runs(item, tiny_setups):
    benchmark.build_step(item, band_pixels=16 * 48, batch_size=1)()


def test_driver_prints_the_table():
    out = run_tool(['tools/analysis_tools/benchmark.py', '--no-train',
                    '--impls', 'fast', '--sizes', '32x48', '--runs', '1',
                    '--warmup', '0'])
    assert re.search(r'fuse:fast:32x48 +[\d.]+ ', out), out
    assert re.search(r'fusion 32x48 fast: median [\d.]+ s, peak \d+ MB; '
                     r'time [\d.]+x', out), out
    assert 'FAILED' not in out, out


def test_bands_ab_reports_both_paths_and_their_ratio(capsys, keep_threads):
    benchmark.bands_ab_benchmark(argparse.Namespace(
        threads=1, sizes=['160x96'], band_pixels=64 * 96, rounds=2,
        warmup=0))
    out = capsys.readouterr().out
    assert re.search(r'160x96 whole image: median [\d.]+ s', out), out
    assert re.search(r'160x96 bands of 6144 px: median [\d.]+ s', out), out
    ratio = re.search(r'bands / whole image, median over 2 rounds: '
                      r'([\d.]+)', out)
    assert ratio and float(ratio.group(1)) > 0, out


def test_fuse_folder_compares_the_tool_loop_with_pure_fusion(
        tmp_path, capsys, keep_threads):
    rng = np.random.default_rng(0)
    for sub in ('ir', 'vi'):
        (tmp_path / sub).mkdir()
        for i in range(2):
            channels = (1, ) if sub == 'ir' else (3, )
            cv2.imwrite(str(tmp_path / sub / f'{i:05d}.png'),
                        rng.integers(0, 256, (24, 32) + channels, np.uint8))
    benchmark.fuse_folder_benchmark(argparse.Namespace(
        fuse_folder=[osp.join(tmp_path, 'ir'), osp.join(tmp_path, 'vi')],
        threads=1, band_pixels=0, rounds=2, workers=1))
    out = capsys.readouterr().out
    assert out.count('round ') == 2, out
    assert re.search(r'median over 2 rounds: fuse.py reaches [\d.]+ % of '
                     r'the pure fusion throughput', out), out
