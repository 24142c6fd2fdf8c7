"""Steps to processes at their times: jitter drawn, ties in file order, a busy process
served when it is free.

Steps go out from a chain of callbacks (no simpy process, no generator): at each step
time the instant's steps are queued in file order and handed out one at a time, so a
process that is idle runs its step at once and the next one goes out when it is done.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from operator import attrgetter
from typing import Protocol

from ..plan import MAIN_THREAD as MAIN
from ..plan import Plan, Step
from .compat import URGENT, Callback, Environment


class Taker(Protocol):
    """A process as steps reach it (``engine.processes.SimProcess``)."""

    due: int
    exited: bool
    idle: bool
    handed: deque[Step]

    def poke(self) -> None: ...


class StepFeeder:
    """Hands each step to its thread at its time: ``processes`` holds every thread, a
    process's main one under the process's name, the others as ``A/io``."""

    __slots__ = ("_due", "env", "late", "plan", "processes", "rng")

    def __init__(
        self,
        env: Environment,
        plan: Plan,
        processes: Mapping[str, Taker],
        rng: random.Random,
    ) -> None:
        self.env = env
        self.plan = plan
        self.processes = processes
        self.rng = rng
        self._due: deque[Step] = deque()
        self.late: list[Step] = []  # steps whose jittered time fell after until

    def timed(self) -> list[Step]:
        """Steps at their times for this run: jittered ones moved by a seeded draw, then
        ordered by time with file order breaking ties."""
        steps = self.plan.steps
        if not any(st.jitter for st in steps):
            # a compiled scenario is in order already; a Plan built in Python may not be
            return sorted(steps, key=attrgetter("at_us"))  # stable: file order breaks ties
        rng = self.rng
        timed = [
            (st.at_us + st.jitter.draw(rng), i, st) if st.jitter else (st.at_us, i, st)
            for i, st in enumerate(steps)
        ]
        timed.sort(key=lambda t: (t[0], t[1]))
        until = self.plan.until_us
        self.late = [st for at, _, st in timed if at > until]
        return [replace(st, at_us=at) for at, _, st in timed if at <= until]

    def start(self) -> None:
        """Schedule the first step time, with the processes' own starts (urgent, at time 0),
        so steps at time 0 go out before anything else of that instant."""
        steps = self.timed()
        if steps:
            Callback(self.env, 0, self._first, (steps,), URGENT)

    def _first(self, steps: list[Step]) -> None:
        if steps[0].at_us:
            Callback(self.env, steps[0].at_us, self._due_at, (steps, 0))
        else:
            self._due_at(steps, 0)

    def _due_at(self, steps: list[Step], i: int) -> None:
        """At a step time, queue that instant's steps in file order, hand them out, and
        come back at the next step time."""
        at = steps[i].at_us
        n = len(steps)
        processes = self.processes
        while i < n and steps[i].at_us == at:
            step = steps[i]
            thread = step.thread
            processes[step.process if thread == MAIN else f"{step.process}/{thread}"].due += 1
            self._due.append(step)
            i += 1
        self.dispatch()
        if i < n:
            Callback(self.env, steps[i].at_us - at, self._due_at, (steps, i))

    def dispatch(self) -> None:
        """Hand the next due step to its process: at once if it is idle (it then runs and
        hands on the next one), else into its own queue, to run when it is free."""
        due = self._due
        while due:
            step = due.popleft()
            thread = step.thread
            proc = self.processes[step.process if thread == MAIN else f"{step.process}/{thread}"]
            proc.due -= 1
            if proc.exited:
                continue
            proc.handed.append(step)
            if proc.idle:
                proc.poke()
                return


def taker(step: Step) -> str:
    """Who runs a step: its process's main thread (``A``) or another thread (``A/io``);
    ``StepFeeder`` works this out inline, on its hot path."""
    thread = step.thread
    return step.process if thread == MAIN else f"{step.process}/{thread}"
