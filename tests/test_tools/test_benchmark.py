"""tools/analysis_tools/benchmark.py: the driver prints its table (each item
in its own process), and the folder and row-band modes run from its
command line as documented."""
import re

import cv2
import numpy as np
from helpers import run_tool


def test_driver_prints_the_table():
    out = run_tool(['tools/analysis_tools/benchmark.py', '--no-train',
                    '--impls', 'fast', '--sizes', '32x48', '--runs', '1',
                    '--warmup', '0'])
    assert re.search(r'fuse:fast:32x48 +[\d.]+ ', out), out
    assert re.search(r'fusion 32x48 fast: median [\d.]+ s, peak \d+ MB; '
                     r'time [\d.]+x', out), out
    assert 'FAILED' not in out, out


def test_the_other_modes_run_from_the_command_line(tmp_path):
    out = run_tool(['tools/analysis_tools/benchmark.py', '--bands-ab',
                    '--sizes', '130x24', '--band-pixels', '1536', '--rounds',
                    '1', '--warmup', '0', '--threads', '1'])
    assert re.search(r'130x24: bands / whole image, median over 1 rounds: '
                     r'[\d.]+', out), out
    rng = np.random.default_rng(0)
    for sub, channels in (('ir', 1), ('vi', 3)):
        (tmp_path / sub).mkdir()
        cv2.imwrite(str(tmp_path / sub / '00000.png'),
                    rng.integers(0, 256, (24, 32, channels), np.uint8))
    out = run_tool(['tools/analysis_tools/benchmark.py', '--fuse-folder',
                    str(tmp_path / 'ir'), str(tmp_path / 'vi'), '--rounds',
                    '1', '--threads', '1', '--workers', '1'])
    assert re.search(r'median over 1 rounds: fuse.py reaches [\d.]+ % of '
                     r'the pure fusion throughput', out), out
