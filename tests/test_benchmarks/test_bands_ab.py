"""Row bands against the whole image: both paths and their ratio."""
import argparse
import re

import pytest
import torch

from tdfusion_mm.benchmarks import bands_ab_benchmark


@pytest.fixture
def keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_bands_ab_reports_both_paths_and_their_ratio(capsys, keep_threads):
    bands_ab_benchmark(argparse.Namespace(
        threads=1, sizes=['160x96'], band_pixels=64 * 96, rounds=2,
        warmup=0))
    out = capsys.readouterr().out
    assert re.search(r'160x96 whole image: median [\d.]+ s', out), out
    assert re.search(r'160x96 bands of 6144 px: median [\d.]+ s', out), out
    ratio = re.search(r'bands / whole image, median over 2 rounds: '
                      r'([\d.]+)', out)
    assert ratio and float(ratio.group(1)) > 0, out
