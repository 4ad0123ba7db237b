"""SIGTERM and SIGINT stop a training run through its normal cleanup."""
import os
import signal
from contextlib import contextmanager
from typing import Iterator, Sequence

# The handlers that a running block replaced, by signal.
_replaced = {}


def _restore_in_child() -> None:
    """Give a forked child (a dataloader worker, a metric's process pool)
    the handlers it had before: a Python-level handler cannot interrupt a
    blocking call when the signal lands just before it, so a pool worker
    that ``Pool.terminate`` signals could block forever."""
    try:
        for signum, handler in _replaced.items():
            signal.signal(signum, handler)
    except ValueError:  # forked from another thread: leave them
        pass
    _replaced.clear()


os.register_at_fork(after_in_child=_restore_in_child)


class RunStopped(KeyboardInterrupt):
    """Raised in the main thread when the run receives a stop signal.

    A ``KeyboardInterrupt``, so that no ``except Exception`` of the
    training code swallows it.
    """

    def __init__(self, signum: int):
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f'stopped by {self.name}')


@contextmanager
def stop_on_signals(
        signums: Sequence[int] = (signal.SIGTERM, signal.SIGINT)
) -> Iterator[None]:
    """Turn ``signums`` into :class:`RunStopped` inside the block, in this
    process only (forked children keep the previous handlers, which are
    restored after the block)."""

    def stop(signum, frame):
        raise RunStopped(signum)

    previous = {s: signal.signal(s, stop) for s in signums}
    _replaced.update(previous)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
            _replaced.pop(s, None)
