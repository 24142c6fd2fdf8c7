"""The simpy internals the engine relies on, in one place.

simpy's public API schedules a callback only through ``Timeout`` (an event with a value,
a delay and an append per callback). Every network happening and step time of a run is
one, so the engine schedules a leaner event instead: already triggered, with one callback,
built by setting ``Event._value`` and ``Event._ok`` as simpy's own ``Initialize`` does.
An explorer reorders the events due at one instant (:class:`ChoosingEnvironment`), which
needs the layout of simpy's event heap. ``tests/test_compat.py`` pins these internals, and
pyproject.toml keeps simpy below 5.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT, EventPriority

__all__ = ["NORMAL", "URGENT", "Callback", "Chooser", "ChoosingEnvironment", "Environment"]


def _dispatch(ev: simpy.Event) -> None:
    fn, args = ev._value
    fn(*args)


class Environment(simpy.Environment):
    """simpy's environment with its clock typed as what the engine keeps it: whole
    microseconds (an ``int``; simpy allows floats)."""

    @property
    def now(self) -> int:  # never a float here
        return self._now  # type: ignore[return-value]


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


#: Picks which of the events due at one instant (same time, same priority) goes first:
#: given the time and the events in scheduling order, the index of the one to run.
Chooser = Callable[[int, list[simpy.Event]], int]


class ChoosingEnvironment(Environment):
    """An environment with one choice point: when several events are due at the same
    instant, ``choose`` says which runs first (the default order is scheduling order).

    The choice is made by renumbering the due entries of simpy's event heap, whose entries
    are ``(time, priority, event id, event)``; simpy's own ``step`` then runs the chosen
    one. A run without a chooser uses a plain ``simpy.Environment`` and pays nothing.
    """

    def __init__(self, choose: Chooser) -> None:
        super().__init__()
        self.choose = choose

    def step(self) -> None:
        queue = self._queue
        if len(queue) > 1:
            first = queue[0]
            due = [heappop(queue)]
            while queue and queue[0][0] == first[0] and queue[0][1] == first[1]:
                due.append(heappop(queue))
            if len(due) > 1:
                due.sort(key=lambda entry: entry[2])  # scheduling order
                pick = self.choose(int(first[0]), [entry[3] for entry in due])
                ids = [entry[2] for entry in due]
                order = [due[pick], *due[:pick], *due[pick + 1 :]]
                due = [(t, p, eid, ev) for (t, p, _, ev), eid in zip(order, ids, strict=True)]
            for entry in due:
                heappush(queue, entry)
        super().step()
