"""Ctrl-C: one clean stop, however often it is pressed.

The first SIGINT raises ``KeyboardInterrupt`` where the program is, so every ``finally``
and context manager on the way out runs (partial outputs are removed, worker processes
stopped). Further SIGINTs while that cleanup runs are ignored: a second
``KeyboardInterrupt`` raised inside the cleanup would cut it short and leave workers or
partial files behind. Worker processes ignore SIGINT; their parent stops them.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a pool is made: every command imports this module
    from concurrent.futures import ProcessPoolExecutor

#: The exit code of a command stopped by SIGINT, as shells report it (128 + 2).
EXIT_INTERRUPTED = 128 + signal.SIGINT


class _Once:
    """A SIGINT handler that interrupts the first time and ignores later signals."""

    def __init__(self) -> None:
        self.fired = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if not self.fired:
            self.fired = True
            raise KeyboardInterrupt


@contextmanager
def stop_once() -> Iterator[None]:
    """Within the block, SIGINT interrupts once and SIGXFSZ is ignored; the previous
    handlers come back after, unless it was interrupted (outside the main thread, where
    no handler can be set, nothing changes)."""
    try:
        previous = signal.getsignal(signal.SIGINT) or signal.default_int_handler
        signal.signal(signal.SIGINT, previous)  # raises outside the main thread
    except ValueError:  # not the main thread: signals go to the main thread anyway
        yield
        return
    # a file-size limit (ulimit -f) then fails the write (EFBIG), which removes the partial
    # file and names it, instead of killing the process with the file half written
    size_limit = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    once = _Once()
    signal.signal(signal.SIGINT, once)
    try:
        yield
    finally:
        # once interrupted, the program is ending: a later press must not cut short its
        # exit (the interpreter's own shutdown joins threads too)
        signal.signal(signal.SIGINT, signal.SIG_IGN if once.fired else previous)
        signal.signal(signal.SIGXFSZ, size_limit)


class WorkerLost(Exception):
    """A worker process ended before its tasks were done; the message says so."""


def ignore_in_worker() -> None:
    """Initializer of worker processes: their parent decides when they stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def process_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """Worker processes that ignore SIGINT and are all gone when the block is left.

    Left normally, the pool finishes its work; left by an exception (Ctrl-C), queued work
    is cancelled and the workers are terminated at once instead of finishing their tasks.
    A worker that dies (killed, or out of memory) stops them all with ``WorkerLost``.
    """
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=workers, initializer=ignore_in_worker)
    try:
        yield pool
    except BrokenProcessPool:
        _stop(pool)
        raise WorkerLost(
            "a worker process died (killed by a signal, or out of memory) before its runs were done"
        ) from None
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    # concurrent.futures has no public way to stop running tasks before Python 3.14
    # (terminate_workers); its worker table is the one handle on them.
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in workers:
        with suppress(OSError, ValueError):
            proc.terminate()
    for proc in workers:
        proc.join(timeout=1)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=1)
