"""The report's statistics: paired differences, sign test, mean and spread."""
from tdfusion_mm.study.paired_stats import (mean_std, paired_difference,
                                            sign_test_p)


def test_paired_difference_counts_signs():
    table = {('demo', 'learned', s): {'pascal_voc/mAP': v}
             for s, v in enumerate((0.6, 0.5, 0.7))}
    table.update({('demo', 'fixed', s): {'pascal_voc/mAP': v}
                  for s, v in enumerate((0.5, 0.55, 0.6))})
    text = paired_difference('demo', table, [0, 1, 2])
    assert text.startswith('+5.00') and 'better in 2 of 3' in text
    assert '+10.00, -5.00, +10.00' in text
    # sd 8.66, t(2) = 4.303: half width 21.52; 2 of 3 signs: p = 1.
    assert '95 % interval [-16.52, +26.52]' in text and 'p = 1 (' in text
    assert sign_test_p([1.0] * 8) == 2 / 2**8
    assert sign_test_p([1.0, -1.0, 0.0]) == 1.0
    assert mean_std([1.0, 2.0, 3.0]) == '2.00 ± 1.00 (1.00 / 2.00 / ' \
        '3.00)'
