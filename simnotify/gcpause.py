"""Fewer full garbage collections while a run builds its trace.

A run appends hundreds of thousands of long-lived trace records. CPython's full (oldest
generation) collection walks every one of them each time the heap grows by a quarter, which
measured as half of a large run's time. The records form no cycles, and the short-lived
simpy objects that can are still collected by the young generations, so while any run is
in progress the oldest generation is collected only rarely. The setting is process-wide:
a counter under a lock restores it when the last concurrent run (threads) leaves.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Young collections between full ones while a run is in progress (CPython's default: 10).
RARE_FULL = 1000

_lock = threading.Lock()
_active = 0
_saved: tuple[int, ...] = ()


@contextmanager
def rare_full_collections() -> Iterator[None]:
    """Within the block, collect the oldest generation ``RARE_FULL`` times less often."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = gc.get_threshold()
            if len(_saved) == 3 and _saved[0] > 0:
                gc.set_threshold(_saved[0], _saved[1], RARE_FULL)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and len(_saved) == 3 and _saved[0] > 0:
                gc.set_threshold(*_saved)
