"""tools/analysis_tools/benchmark.py --bands-ab: both paths in one process,
the ratio per round."""
import re

from helpers import run_tool as run


def test_bands_ab_reports_both_paths_and_their_ratio():
    out = run(['tools/analysis_tools/benchmark.py', '--bands-ab', '--sizes',
               '160x96', '--band-pixels', str(64 * 96), '--rounds', '2',
               '--warmup', '0'])
    assert re.search(r'160x96 whole image: median [\d.]+ s', out), out
    assert re.search(r'160x96 bands of 6144 px: median [\d.]+ s', out), out
    ratio = re.search(r'bands / whole image, median over 2 rounds: '
                      r'([\d.]+)', out)
    assert ratio and float(ratio.group(1)) > 0, out
