"""The simpy internals the engine relies on, in one place.

simpy's public API schedules a callback only through ``Timeout`` (an event with a value,
a delay and an append per callback). Every network happening and step time of a run is
one, so the engine schedules a leaner event instead: already triggered, with one callback,
built by setting ``Event._value`` and ``Event._ok`` as simpy's own ``Initialize`` does.
``tests/test_compat.py`` pins these attributes, and pyproject.toml keeps simpy below 5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT, EventPriority

__all__ = ["NORMAL", "URGENT", "Callback"]


def _dispatch(ev: simpy.Event) -> None:
    fn, args = ev._value
    fn(*args)


class Callback(simpy.Event):
    """``fn(*args)`` after ``delay`` microseconds: a triggered event with one callback."""

    def __init__(
        self,
        env: simpy.Environment,
        delay: int,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        priority: EventPriority = NORMAL,
    ) -> None:
        if delay < 0:  # simpy would move time backwards
            raise ValueError(f"negative delay {delay}")
        self.env = env
        self.callbacks = [_dispatch]
        self._value = (fn, args)
        self._ok = True
        env.schedule(self, priority, delay)
