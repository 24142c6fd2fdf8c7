"""No cycle collection while a run builds its trace; a large run's survivors go straight to
the oldest generation.

A run allocates hundreds of thousands of long-lived trace records, and CPython's cycle
collector walks each of them once or twice as it ages them through its young generations:
about an eighth of a large run's time (half of it when full collections ran at the default
rate). A run makes no reference cycles while it runs (``tests/test_gcpause.py`` checks every
bundled scenario under both profiles), so reference counting alone frees what it drops and
the collector has nothing to find. So while any run is in progress the collector is off.

When the last run leaves, if at least ``PROMOTE_AT`` objects were left young,
``gc.freeze()`` then ``gc.unfreeze()`` moves them to the oldest generation without walking
them. A finished world is itself a reference cycle (small next to its trace, which the
runner takes out of it), so promoted dead worlds wait for a full collection; after
``FULL_AFTER`` promoted objects with no full collection between, one is run here. Smaller
runs (sweeps) are left to the young generations, which free their worlds at once.

The switch is process-wide, under a lock. Runs overlapping in threads (a sweep on a thread
pool) turn the collector back on for as long as they overlap, since they might never leave
a gap in which to collect their finished worlds, and nothing is promoted then. It is
restored when the last run leaves, only if it was on before the first one came, and the
promotion is skipped if the program has frozen objects of its own (``gc.unfreeze()`` would
release them).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Young objects at the end of a run worth promoting unwalked (about 100,000 records).
PROMOTE_AT = 200_000
#: Promoted objects after which a full collection is due, if none ran meanwhile.
FULL_AFTER = 20_000_000

_lock = threading.Lock()
_depth: dict[int, int] = {}  # thread ident -> runs it has in progress (runs nest: runner, world)
_overlapped = False  # runs of two threads were in progress at once: the collector is back on
_was_enabled = False
_promoted = 0  # objects promoted since the last full collection seen
_fulls_seen = 0  # gc.get_stats()[2]["collections"] when _promoted was last reset


@contextmanager
def collector_paused() -> Iterator[None]:
    """Within the block, the cycle collector does not run (reference counting still does)."""
    global _overlapped, _was_enabled
    me = threading.get_ident()
    with _lock:
        if not _depth:
            _was_enabled = gc.isenabled()
            _overlapped = False
            gc.disable()
        elif me not in _depth and _was_enabled:
            # runs overlapping in threads (a sweep on a thread pool) might never leave a
            # gap to collect their finished worlds in: the collector works as usual
            _overlapped = True
            gc.enable()
        _depth[me] = _depth.get(me, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _depth[me] -= 1
            if not _depth[me]:
                del _depth[me]
            if not _depth and _was_enabled:
                if not _overlapped:  # the young objects are this one thread's run's
                    _promote_survivors()
                gc.enable()


def _promote_survivors() -> None:
    global _promoted, _fulls_seen
    young = gc.get_count()[0]  # tracked objects allocated while paused and still alive
    if young < PROMOTE_AT or gc.get_freeze_count():
        return
    fulls = gc.get_stats()[2]["collections"]
    if fulls != _fulls_seen:
        _promoted, _fulls_seen = 0, fulls
    gc.freeze()  # every tracked object to the permanent generation...
    gc.unfreeze()  # ...and from there to the oldest, unwalked
    _promoted += young
    if _promoted >= FULL_AFTER:
        gc.collect()
        _promoted, _fulls_seen = 0, gc.get_stats()[2]["collections"]
