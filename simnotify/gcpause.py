"""No cycle collection while a run builds its trace; its survivors go straight to the oldest
generation.

A run allocates hundreds of thousands of long-lived trace records, and CPython's cycle
collector walks each of them once or twice as it ages them through its young generations:
about an eighth of a large run's time (half of it when full collections ran at the default
rate). A run makes no reference cycles while it runs (``tests/test_gcpause.py`` checks every
bundled scenario under both profiles), so reference counting alone frees what it drops and
the collector has nothing to find. So while any run is in progress the collector is off, and
when the last run leaves, ``gc.freeze()`` then ``gc.unfreeze()`` moves the survivors to the
oldest generation without walking them. A finished world is one cycle, collected by the next
full collection like any other old object; the runner takes the trace out of it first, so a
dropped result does not wait for that.

The switch is process-wide: a counter under a lock restores it when the last concurrent run
(threads) leaves, only if it was on before the first one came, and the promotion is skipped
if the program has frozen objects of its own (``gc.unfreeze()`` would release them).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Within the block, the cycle collector does not run (reference counting still does)."""
    global _active, _was_enabled
    with _lock:
        if _active == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _was_enabled:
                if gc.get_freeze_count() == 0:
                    gc.freeze()  # young survivors to the permanent generation...
                    gc.unfreeze()  # ...and from there to the oldest, unwalked
                gc.enable()
