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
from heapq import heapify
from operator import attrgetter
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT, EventPriority

__all__ = [
    "NORMAL",
    "URGENT",
    "Callback",
    "Chooser",
    "ChoosingEnvironment",
    "Environment",
    "now_of",
]


def _dispatch(ev: simpy.Event) -> None:
    fn, args = ev._value
    fn(*args)


class Environment(simpy.Environment):
    """simpy's environment with its clock typed as what the engine keeps it: whole
    microseconds (an ``int``; simpy allows floats)."""

    @property
    def now(self) -> int:  # never a float here
        return self._now  # type: ignore[return-value]


#: ``now_of(env)`` is ``env.now`` in one C call, without the property's Python frame: the
#: tracer reads the clock once per record.
now_of: Callable[[simpy.Environment], int] = attrgetter("_now")


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


#: Picks which of the events that may happen next goes first: given the time of the first
#: and the candidates (the events due at that instant in scheduling order, then any
#: floating events that may overtake them), the index of the one to run.
Chooser = Callable[[int, list[simpy.Event]], int]


class ChoosingEnvironment(Environment):
    """An environment with one choice point: when several events may happen next, ``choose``
    says which runs first (the default is scheduling order).

    Candidates are the events due at the earliest instant (same time, same priority) and,
    while floating events are pending, every event due before the earliest of their latest
    times: an event scheduled with a window (:meth:`float`) is due at its earliest time but
    may happen as late as its latest one, so the events due within its window may go
    before it (it then waits until their time). An event that goes after another of
    the same sender (:meth:`float` ``after``) is no candidate while that one is pending.

    The choice is made by renumbering entries of simpy's event heap, whose entries are
    ``(time, priority, event id, event)``; simpy's own ``step`` then runs the chosen one.
    A run without a chooser uses a plain ``simpy.Environment`` and pays nothing.
    """

    def __init__(self, choose: Chooser) -> None:
        super().__init__()
        self.choose = choose
        #: floating events still pending: their latest time
        self.latest: dict[simpy.Event, int] = {}
        #: events that may not go before another one (per-sender order)
        self.after: dict[simpy.Event, simpy.Event] = {}
        #: the times of the candidates last offered to ``choose``
        self.offered_at: list[int] = []
        #: told of every event just before it runs (an explorer's footprints)
        self.stepping: Callable[[simpy.Event], None] | None = None
        #: every pending event's number in the order of scheduling, the same in every run
        #: that made the same choices (simpy's own ids are renumbered by choices)
        self.serial: dict[simpy.Event, int] = {}
        self._made = 0

    def schedule(
        self, event: simpy.Event, priority: EventPriority = NORMAL, delay: Any = 0
    ) -> None:
        self.serial[event] = self._made
        self._made += 1
        super().schedule(event, priority, delay)

    def float(self, ev: simpy.Event, width: int, after: simpy.Event | None = None) -> None:
        """Let the just-scheduled ``ev`` happen up to ``width`` microseconds after its time,
        and never before ``after`` (None: no such bound)."""
        if width > 0:
            for entry in self._queue:
                if entry[3] is ev:
                    self.latest[ev] = int(entry[0]) + width
                    break
        if after is not None and after.callbacks is not None:
            self.after[ev] = after

    def _candidates(self) -> list[tuple[Any, ...]]:
        queue = self._queue
        t0, p0 = queue[0][0], queue[0][1]
        latest, after = self.latest, self.after
        if not latest:
            due = [e for e in queue if e[0] == t0 and e[1] == p0]
            jump: list[tuple[Any, ...]] = []
        else:
            bound = min(latest.get(e[3], e[0]) for e in queue)  # someone must happen by then
            urgent = min((e[0] for e in queue if e[1] == URGENT), default=None)
            due, jump = [], []
            for e in queue:
                if e[0] == t0 and e[1] == p0:
                    due.append(e)
                elif t0 < e[0] <= bound and p0 == NORMAL and (urgent is None or e[0] < urgent):
                    jump.append(e)
        due.sort(key=lambda e: e[2])  # scheduling order
        jump.sort(key=lambda e: (e[0], e[2]))
        cands = due + jump
        if after:
            cands = [e for e in cands if e[3] not in after or after[e[3]].callbacks is None]
        return cands

    def _promote(self, chosen: tuple[Any, ...]) -> None:
        """Make ``chosen`` the next event: floats due before it wait until its time, and it
        goes first among the events of its instant."""
        at, prio = chosen[0], chosen[1]
        queue = [(at, e[1], e[2], e[3]) if e[0] < at else e for e in self._queue]
        tied = sorted((e for e in queue if e[0] == at and e[1] == prio), key=lambda e: e[2])
        ids = [e[2] for e in tied]
        rest = [e for e in queue if not (e[0] == at and e[1] == prio)]
        order = [chosen, *(e for e in tied if e[3] is not chosen[3])]
        rest.extend((at, prio, eid, e[3]) for e, eid in zip(order, ids, strict=True))
        heapify(rest)
        self._queue[:] = rest

    def step(self) -> None:
        queue = self._queue
        if len(queue) > 1:
            cands = self._candidates()
            if len(cands) > 1:
                self.offered_at = [int(e[0]) for e in cands]
                pick = self.choose(int(cands[0][0]), [e[3] for e in cands])
                self._promote(cands[pick])
            elif cands and cands[0] is not queue[0]:
                self._promote(cands[0])  # the first due waits for its sender's earlier one
        if queue:
            ev = queue[0][3]
            self.latest.pop(ev, None)
            self.after.pop(ev, None)
            if self.stepping is not None:
                self.stepping(ev)
            self.serial.pop(ev, None)
        super().step()
