"""SIGTERM and SIGINT stop a training run through its normal cleanup."""
import signal
from contextlib import contextmanager
from typing import Iterator, Sequence


class RunStopped(KeyboardInterrupt):
    """Raised in the main thread when the run receives a stop signal.

    A ``KeyboardInterrupt``, so that no ``except Exception`` of the
    training code swallows it, and dataloader workers (which inherit the
    handler) exit quietly as they do on Ctrl-C.
    """

    def __init__(self, signum: int):
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f'stopped by {self.name}')


@contextmanager
def stop_on_signals(
        signums: Sequence[int] = (signal.SIGTERM, signal.SIGINT)
) -> Iterator[None]:
    """Turn ``signums`` into :class:`RunStopped` inside the block (the
    previous handlers are restored after it)."""

    def stop(signum, frame):
        raise RunStopped(signum)

    previous = {s: signal.signal(s, stop) for s in signums}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
