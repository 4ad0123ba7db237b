"""Statistics of the report: mean and spread over seeds, and the paired
difference of two variants with its t interval and sign test."""
import math
import statistics

from .design import task_score

# Two-sided 95 % quantiles of Student's t for 1..10 degrees of freedom.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
         2.228)


def mean_std(values, digits=2) -> str:
    """``mean ± std (v1 / v2 / ...)``; std is the sample standard
    deviation."""
    if not values:
        return 'n/a'
    each = ' / '.join(f'{v:.{digits}f}' for v in values)
    if len(values) == 1:
        return each
    return (f'{statistics.mean(values):.{digits}f} ± '
            f'{statistics.stdev(values):.{digits}f} ({each})')


def sign_test_p(diffs) -> float:
    """Two-sided exact sign-test p-value of paired differences (zeros
    dropped)."""
    nonzero = [d for d in diffs if d != 0]
    n = len(nonzero)
    if not n:
        return 1.0
    k = min(sum(d > 0 for d in nonzero), sum(d < 0 for d in nonzero))
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_difference(task, table, seeds, learned='learned',
                      fixed='fixed') -> str:
    """``learned - fixed`` per seed, its mean, a 95 % t interval, the
    sign-test p-value and how many seeds are > 0."""
    diffs = [task_score(task, table[task, learned, s]) -
             task_score(task, table[task, fixed, s]) for s in seeds
             if (task, learned, s) in table and (task, fixed, s) in table]
    if not diffs:
        return 'n/a'
    each = ', '.join(f'{d:+.2f}' for d in diffs)
    positive = sum(d > 0 for d in diffs)
    mean = statistics.mean(diffs)
    interval = ''
    if 2 <= len(diffs) <= len(T_975) + 1:
        half = T_975[len(diffs) - 2] * statistics.stdev(diffs) / math.sqrt(
            len(diffs))
        interval = f', 95 % interval [{mean - half:+.2f}, {mean + half:+.2f}]'
    return (f'{mean:+.2f}{interval}, sign test p = '
            f'{sign_test_p(diffs):.3g} (per seed: {each}; learned better in '
            f'{positive} of {len(diffs)})')
