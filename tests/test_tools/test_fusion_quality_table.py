"""tools/analysis_tools/fusion_quality_table.py on a small generated set."""
import cv2
import numpy as np
from helpers import load_tool


def test_table_of_a_model_and_the_rules(tmp_path):
    tool = load_tool('tools/analysis_tools/fusion_quality_table.py')
    rng = np.random.default_rng(0)
    for folder in ('ir', 'vi'):
        (tmp_path / folder).mkdir()
    for i in range(2):
        ir = np.zeros((33, 45), np.uint8)
        ir[8:20, 10:30] = 230
        vis = rng.integers(0, 256, (33, 45, 3), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / 'ir' / f'{i}.png'), ir)
        cv2.imwrite(str(tmp_path / 'vi' / f'{i}.png'), vis)
    out = tmp_path / 'out'
    tool.main(tool.parse_args([
        '--models', 'gdf_msrs_fixed', '--rules', 'max', 'mean', '--set',
        'tiny set', str(tmp_path / 'ir'), str(tmp_path / 'vi'), '--out',
        str(out), '--panels', '1']))
    table = (out / 'table.md').read_text()
    assert '**tiny set** (2 pairs)' in table
    rows = {line.split(' | ')[0].strip('| '): line.split(' | ')
            for line in table.splitlines() if line.startswith('| ')}
    assert set(rows) >= {'gdf_msrs_fixed', 'max', 'mean'}
    # Max keeps the brighter source: higher entropy than the mean here.
    en = {k: float(rows[k][1]) for k in ('max', 'mean')}
    assert en['max'] != en['mean']
    max_fused = cv2.imread(str(out / 'tiny_set' / 'max' / '0.png'))
    assert max_fused.shape == (33, 45, 3)
    assert max_fused[10:18, 12:28].mean() > 200  # the infrared object
    panel = cv2.imread(str(out / 'tiny_set' / 'panels' / '0.jpg'))
    assert panel.shape == (33, 45 * 5, 3)  # IR, visible and 3 methods
    assert not (out / 'tiny_set' / 'panels' / '1.jpg').exists()
