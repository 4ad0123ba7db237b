"""Folder fusion speed: the tool's loop against pure fusion, per round."""
import argparse
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch

from tdfusion_mm.benchmarks import fuse_folder_benchmark


@pytest.fixture
def keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_fuse_folder_compares_the_tool_loop_with_pure_fusion(
        tmp_path, capsys, keep_threads):
    rng = np.random.default_rng(0)
    for sub in ('ir', 'vi'):
        (tmp_path / sub).mkdir()
        for i in range(2):
            channels = (1, ) if sub == 'ir' else (3, )
            cv2.imwrite(str(tmp_path / sub / f'{i:05d}.png'),
                        rng.integers(0, 256, (24, 32) + channels, np.uint8))
    fuse_folder_benchmark(argparse.Namespace(
        fuse_folder=[osp.join(tmp_path, 'ir'), osp.join(tmp_path, 'vi')],
        threads=1, band_pixels=0, rounds=2, workers=1))
    out = capsys.readouterr().out
    assert out.count('round ') == 2, out
    assert re.search(r'median over 2 rounds: fuse.py reaches [\d.]+ % of '
                     r'the pure fusion throughput', out), out
