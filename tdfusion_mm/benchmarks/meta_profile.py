"""Where a meta pair's time goes: the meta pair of a training setup with a
trained T and a frozen T, at the config's batch and at 2 pairs a batch,
alternated in one process, each part timed by wrapping the function that
does it."""
import contextlib
import statistics
import time

from .machine import load
from .training_items import build_train

# (part, what it covers), in the order of a meta pair. ``outer`` and
# ``rest`` are what is left of the meta step and of the whole pair.
PARTS = (
    ('lookahead', "T's look-ahead step (F's fusion of the inner batch, T "
     'forward, backward, step)'),
    ('inner', 'F forward and fusion loss on the inner crops'),
    ('virtual', "F's virtual step (backward of the fusion loss)"),
    ('hvp', "F's forward-mode product and G's second-order pass"),
    ('outer', 'the stepped F on the outer batch, T\'s task loss and its '
     'backward to F (v)'),
    ('generator_step', "G's update"),
    ('rest', "batch preparation, T's restore (weights and optimizer state)"),
)


@contextlib.contextmanager
def timed_parts(seconds: dict):
    """While open, the functions of a meta pair add their wall time to
    ``seconds[name]``."""
    import tdfusion_mm.models.algorithms.tdfusion as tdfusion
    import tdfusion_mm.models.meta.meta_step as meta_step
    targets = ((meta_step, 'fusion_loss_terms', 'inner'),
               (meta_step, 'virtual_step', 'virtual'),
               (meta_step, 'forward_mode_hvp', 'hvp'),
               (tdfusion, 'meta_hypergradient', 'meta'),
               (tdfusion, 'step_on_hypergradient', 'generator_step'),
               (tdfusion.TDFusion, 'train_task', 'lookahead'))
    saved = [(owner, attr, getattr(owner, attr))
             for owner, attr, _ in targets]

    def timed(fn, name):

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[name] = (seconds.get(name, 0.0) +
                                 time.perf_counter() - start)

        return wrapper

    for owner, attr, name in targets:
        setattr(owner, attr, timed(getattr(owner, attr), name))
    try:
        yield
    finally:
        for owner, attr, fn in saved:
            setattr(owner, attr, fn)


def split_pair(seconds: dict, total: float) -> dict:
    """The parts of :data:`PARTS` from one pair's timed functions."""
    parts = {name: seconds.get(name, 0.0)
             for name in ('lookahead', 'inner', 'virtual', 'hvp',
                          'generator_step')}
    parts['outer'] = seconds.get('meta', 0.0) - sum(
        parts[n] for n in ('inner', 'virtual', 'hvp'))
    parts['rest'] = total - seconds.get('meta', 0.0) - sum(
        parts[n] for n in ('lookahead', 'generator_step'))
    return parts


def profile_variants(setup: str, pairs: int, hessian_vector: str = 'exact',
                     small_batch: int = 2) -> dict:
    """``{(T, batch): [parts of each pair, with 'total']}`` for T trained or
    frozen and the config's batch (0) or ``small_batch``; the variants
    alternate pair by pair after one warm-up pair each."""
    variants = {(t, b): build_train('meta' if t == 'trained' else
                                    'meta-frozen', setup, hessian_vector, b)
                for t in ('trained', 'frozen') for b in (0, small_batch)}
    for step in variants.values():
        step()
    rows = {v: [] for v in variants}
    for _ in range(pairs):
        for variant, step in variants.items():
            seconds = {}
            with timed_parts(seconds):
                start = time.perf_counter()
                step()
                total = time.perf_counter() - start
            rows[variant].append(dict(split_pair(seconds, total),
                                      total=total))
    return rows


def meta_profile_benchmark(args) -> None:
    """Print the profile of each setup of ``args.setups``."""
    import torch
    torch.set_num_threads(args.threads)
    for name, covers in PARTS:
        print(f'{name}: {covers}')
    for setup in args.setups:
        print(f'meta pair profile, {setup}: {args.runs} pairs per variant, '
              f'alternated, {args.threads} threads, load at start {load()}')
        rows = profile_variants(setup, args.runs, args.hessian_vector)
        for (task, batch), pairs in rows.items():
            median = {k: statistics.median(p[k] for p in pairs)
                      for k in pairs[0]}
            total = median['total']
            shares = ', '.join(f'{name} {median[name]:.3f} s '
                               f'({100 * median[name] / total:.0f} %)'
                               for name, _ in PARTS)
            print(f'  T {task}, batch {batch or "of the config"}: '
                  f'{total:.3f} s per pair, {60 / total:.1f} per minute; '
                  f'{shares}', flush=True)
        print(f'load at end {load()}')
