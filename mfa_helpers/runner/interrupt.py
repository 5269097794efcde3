"""SIGTERM (a CI job cancelled, `kill`) and Ctrl-C stop a run cleanly: the processes it started
(papermill workers, nbval, their kernels) are terminated first, then the run unwinds as from an
exception, so the emulator stops and the temporary folder goes."""
from __future__ import annotations

import signal
from multiprocessing import resource_tracker
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

GRACE = 5.0  # seconds a terminated child has before it is killed


class Interrupted(BaseException):
    """The run was stopped by a signal; a BaseException, so no `except Exception` swallows it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


@contextmanager
def stop_children_on_signal(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[None]:
    """Within the block, each of `signals` terminates every descendant process, then raises
    Interrupted. Children go first: a process pool's exit would otherwise wait for its notebooks,
    and kernels run in sessions of their own, which a signal to the process group misses."""

    def stop(signum: int, _frame) -> None:
        for sig in signals:  # a second signal must not interrupt the clean-up
            signal.signal(sig, signal.SIG_IGN)
        terminate_descendants()
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, stop) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def terminate_descendants() -> None:
    """Every descendant but multiprocessing's resource tracker: it must outlive the pool to
    unregister the pool's semaphores (killed first, a new one prints a KeyError for each)."""
    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
    children = [c for c in psutil.Process().children(recursive=True) if c.pid != tracker]
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=GRACE)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
