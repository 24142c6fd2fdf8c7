"""The parts of a run that an explorer may reorder: steps and network segments as events of
their own, each jittered one floating over its whole range.

A run with a chooser (``World(..., choose=...)``) uses these instead of the plain step
feeder and network. They draw nothing: every happening is scheduled at its earliest time
(no jitter), and one with jitter may happen as late as its range allows, in whatever order
with the other happenings the chooser picks (``ChoosingEnvironment``). What stays fixed is
what the plain run keeps fixed too: segments from one sender arrive in the order sent
(semantics 3.4), and a process's unjittered steps of one instant go out together, in
file order.
"""

from __future__ import annotations

from dataclasses import replace
from operator import attrgetter
from typing import Any

import simpy

from ..plan import Jitter, Step
from .compat import NORMAL, URGENT, Callback, ChoosingEnvironment
from .network import Network
from .sockets import UnderlyingSocket
from .steps import StepFeeder, taker

#: An exponential jitter is explored up to this many times its mean (99.3% of its draws).
EXP_SPAN = 5


def window(jitter: Jitter) -> tuple[int, int]:
    """(least extra delay, how much more it may be) of a jitter range."""
    if jitter.kind == "exp":
        return jitter.low_us, EXP_SPAN * jitter.high_us
    return jitter.low_us, jitter.high_us - jitter.low_us


class ChoiceFeeder(StepFeeder):
    """Each step is an event of its own at its time, so the steps of one instant (and the
    network's happenings) may go in any order; a jittered step floats over its range."""

    __slots__ = ()

    def start(self) -> None:
        env = self.env
        assert isinstance(env, ChoosingEnvironment)
        until = self.plan.until_us
        last: dict[str, simpy.Event] = {}  # each thread's latest unjittered steps
        batch: list[Step] = []
        for st in sorted(self.plan.steps, key=attrgetter("at_us")):  # ties in file order
            if st.jitter:
                if batch:  # file order: the steps before it go out first
                    self._batch(batch, last)
                    batch = []
                least, width = window(st.jitter)
                if st.at_us + least > until:
                    self.late.append(st)
                    continue
                env.float(Callback(env, st.at_us + least, self._hand, ((st,),)), width)
                continue
            if batch and (batch[0].at_us, taker(batch[0])) != (st.at_us, taker(st)):
                self._batch(batch, last)
                batch = []
            batch.append(st)
        if batch:
            self._batch(batch, last)

    def _batch(self, steps: list[Step], last: dict[str, simpy.Event]) -> None:
        """One thread's unjittered steps of one instant go out together, in file order
        (so they are never interleaved with each other's hand-overs)."""
        env = self.env
        assert isinstance(env, ChoosingEnvironment)
        at, name = steps[0].at_us, taker(steps[0])
        prio = URGENT if at == 0 else NORMAL  # as the plain feeder: first at time 0
        ev = Callback(env, at, self._hand, (tuple(steps),), prio)
        env.float(ev, 0, last.get(name))
        last[name] = ev

    def _hand(self, steps: tuple[Step, ...]) -> None:
        proc = self.processes[taker(steps[0])]
        if proc.exited:
            return
        for step in steps:
            proc.handed.append(replace(step, at_us=self.env.now) if step.jitter else step)
        if proc.idle:
            proc.poke()

    def dispatch(self) -> None:
        """Nothing waits here: every step went to its process when its event ran."""


class FloatingNetwork(Network):
    """The network with every jittered delay floating over its range."""

    __slots__ = ("_last",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        #: per sender: its latest segment and the latest time that one may arrive
        self._last: dict[str, tuple[simpy.Event, int]] = {}

    def _delay(self) -> tuple[int, int]:
        if self._jitter is None:
            return self._latency, 0
        least, width = window(self._jitter)
        return self._latency + least, width

    def _later(self, fn: Any, args: tuple[Any, ...]) -> None:
        least, width = self._delay()
        env = self.env
        assert isinstance(env, ChoosingEnvironment)
        env.float(Callback(env, least, fn, args), width)

    def _send_segment(self, src: UnderlyingSocket, fn: Any, args: tuple[Any, ...]) -> None:
        env = self.env
        assert isinstance(env, ChoosingEnvironment)
        now = env.now
        least, width = self._delay()
        at = now + least
        latest = at + width
        if at < src.last_arrival:
            at = src.last_arrival
        src.last_arrival = at
        prev = self._last.get(src.id)
        if prev is not None and prev[1] > latest:
            latest = prev[1]
        ev = Callback(env, at - now, fn, args)
        env.float(ev, latest - at, None if prev is None else prev[0])
        self._last[src.id] = (ev, latest)
