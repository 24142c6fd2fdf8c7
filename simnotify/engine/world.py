"""World: the simpy environment, sockets, processes, the trace, and ``run``.

All simulation state hangs off one World, none is global, so runs are independent and a
scenario with the same seed always gives the same trace.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from operator import attrgetter
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT, EventPriority

from ..expect import InlineCheck, check_inline
from ..gcpause import collector_paused
from ..plan import Call, Plan, Step
from ..profiles import Profile
from ..trace import TraceRecord
from ..units import format_time
from ..winsock import WRITE
from .calls import Api, Outcome
from .network import Network
from .notify import Notifier
from .processes import Ctx, SimProcess
from .sockets import Descriptor, State, UnderlyingSocket


class SimulationLimitError(RuntimeError):
    """The run produced more happenings than the limit allows (a runaway loop).

    ``process`` is the process that acted last, most likely the one looping (``None``
    when no process has acted yet). Both are kept in ``args``: simpy re-raises a copy
    made from them.
    """

    def __init__(self, message: str, process: str | None = None) -> None:
        super().__init__(message, process)
        self.process = process

    def __str__(self) -> str:
        return str(self.args[0])


def _dispatch(ev: simpy.Event) -> None:
    fn, args = ev._value
    fn(*args)


class _Callback(simpy.Event):
    """``fn(*args)`` after ``delay``, as a triggered event with one callback: a simpy
    Timeout without its extra fields and append (inlined, as simpy inlines its own
    Initialize), because every network happening and step time is one."""

    def __init__(
        self,
        env: simpy.Environment,
        delay: int,
        value: tuple[Any, tuple[Any, ...]],
        priority: EventPriority = NORMAL,
    ) -> None:
        if delay < 0:  # simpy would move time backwards
            raise ValueError(f"negative delay {delay}")
        self.env = env
        self.callbacks = [_dispatch]
        self._value = value
        self._ok = True
        env.schedule(self, priority, delay)


#: emit makes records with this and fills in every slot itself: one Python frame per
#: record instead of two (TraceRecord.__init__), about a third cheaper.
_new_record = object.__new__

#: A streamed run hands its records to the sink in batches of this many.
STREAM_BATCH = 8192


class World:
    """One run of one plan under one profile.

    The trace is kept in ``trace``, unless a ``sink`` is given: then records are handed to
    it in batches between simulation steps (when no call record is still being filled in)
    and ``trace`` holds only the batch in progress.
    """

    def __init__(
        self,
        plan: Plan,
        profile: Profile,
        sink: Callable[[list[TraceRecord]], None] | None = None,
    ) -> None:
        self.plan = plan
        self.profile = profile
        self.env = simpy.Environment()
        self.trace: list[TraceRecord] = []
        self._append = self.trace.append
        self._seq = 0
        self._limit = plan.limits.max_happenings
        self._sink = sink
        # emit checks one number per record: the limit, or the next batch for the sink
        self._mark = min(self._limit, STREAM_BATCH) if sink is not None else self._limit
        self.sockets: list[UnderlyingSocket] = []
        self.bytes_sent = 0
        self.bytes_received = 0
        self.bytes_dropped = 0
        self.checks: list[InlineCheck] = []
        self.reached: set[int] = set()  # id() of each call whose inline expect was checked
        self.late: list[Step] = []  # steps whose jittered time fell after until
        self._last_call: TraceRecord | None = None
        self.notifier = Notifier(self, profile)
        self.network = Network(self, self.notifier, plan.network.latency_us)
        self.api = Api(self)
        self.rng = random.Random(plan.seed)  # the run's only source of randomness
        self.processes: dict[str, SimProcess] = {
            p.name: SimProcess(self, p) for p in plan.processes
        }
        self._due: deque[Step] = deque()

    # -- tracing -----------------------------------------------------------------------

    def emit(
        self,
        kind: str,
        process: str | None = None,
        descriptor: str | None = None,
        socket: str | None = None,
        event: str | None = None,
        cause: int | None = None,
        detail: str = "",
        gen: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        """Append one record; returns its seq. Enforces the happenings limit."""
        seq = self._seq
        if seq >= self._mark:
            self._at_mark(process)
        self._seq = seq + 1
        rec = _new_record(TraceRecord)  # slot by slot: see _new_record
        rec.seq = seq
        rec.t_us = self.env._now  # the property costs a call per record
        rec.kind = kind
        rec.process = process
        rec.descriptor = descriptor
        rec.socket = socket
        rec.event = event
        rec.call = None
        rec.args = None
        rec.result = None
        rec.error = None
        rec.cause = cause
        rec.detail = detail
        rec.gen = gen
        rec.data = data
        self._append(rec)
        return seq

    def _at_mark(self, process: str | None) -> None:
        if self._seq >= self._limit:
            self._over_limit(process)
        # a batch for the sink is full: hand it over once the current step is done
        self._mark = min(self._limit, self._seq + STREAM_BATCH)
        self.later(0, self.flush, ())

    def take_trace(self) -> list[TraceRecord]:
        """The trace, which the world then lets go of. A finished world is a reference
        cycle (processes and sockets point back at it), freed only by a full collection;
        the trace should not wait for that once its new owner drops it."""
        trace = self.trace
        self.trace = []
        self._append = self.trace.append
        self._last_call = None
        return trace

    def flush(self) -> None:
        """Hand the records so far to the sink (a streamed run), keeping none of them."""
        if self._sink is not None and self.trace:
            self._sink(self.trace)
            self.trace.clear()

    def _over_limit(self, process: str | None) -> None:
        if process is None and self._last_call is not None:
            process = self._last_call.process
        last = f", the last by process {process}" if process is not None else ""
        raise SimulationLimitError(
            f"the run exceeded {self._limit} happenings at {format_time(self.env.now)}{last} "
            "(a loop that never waits?); raise the limit with --max-happenings",
            process,
        )

    def begin_call(
        self,
        proc: SimProcess,
        call: Call,
        d: Descriptor | None,
        args: dict[str, Any] | None = None,
    ) -> TraceRecord:
        """The ``call`` record, emitted before the call's effects; result filled in after."""
        if args is None:  # shared by every record of the call with this socket name
            args = call.shown
            if d is not None and args.get("socket") != d.name:
                # a handler's default descriptor, or a name bound to a newer descriptor
                name = d.name
                args = call.renamed.get(name)
                if args is None:
                    args = call.renamed[name] = {**call.shown, "socket": name}
        if d is None:
            self.emit("call", proc.name)
        else:
            self.emit("call", proc.name, d.label, d.sock.id)
        rec = self.trace[-1]  # records go to a sink only between steps
        rec.call = call.name
        rec.args = args
        if call.id:
            rec.data = {"id": call.id}
        self._last_call = rec
        return rec

    def check_expect(self, proc: SimProcess, call: Call, out: Outcome) -> None:
        """Compare a completed call with its inline ``expect`` under this profile."""
        if call.expect is None:
            return
        applies, expected = call.expect.for_profile(self.profile.name)
        if not applies:
            return
        self.reached.add(id(call))
        rec = self._last_call
        data = rec.data if rec is not None and rec.data else {}
        self.checks.append(
            check_inline(proc.name, call, expected, out, data, self.env.now, self.profile.name)
        )

    # -- scheduling ------------------------------------------------------------------

    def later(self, delay: int, fn: Any, args: tuple[Any, ...]) -> None:
        """Run ``fn(*args)`` after ``delay`` microseconds, as a callback (no process)."""
        _Callback(self.env, delay, (fn, args))

    def wake(self, s: UnderlyingSocket) -> None:
        """Poke every process blocked on ``s``; each re-checks its call."""
        waiters = s.waiters
        if waiters:
            s.waiters = []
            for proc in waiters:
                proc.poke()

    def new_socket(self) -> UnderlyingSocket:
        """A fresh underlying socket, named S1, S2, ... in creation order."""
        net = self.plan.network
        s = UnderlyingSocket(f"S{len(self.sockets) + 1}", net.send_buffer, net.recv_buffer)
        self.sockets.append(s)
        return s

    # -- running ------------------------------------------------------------------------

    def _connect_pairs(self) -> None:
        """``[[connection]]`` pairs: as if by a blocking connect and an accept at time 0."""
        for conn in self.plan.connections:
            cproc = self.processes[conn.client[0]]
            sproc = self.processes[conn.server[0]]
            client = cproc.new_descriptor(conn.client[1], self.new_socket(), Ctx()).sock
            server = sproc.new_descriptor(conn.server[1], self.new_socket(), Ctx()).sock
            server.state = State.CONNECTED
            self.network.establish(client, server)
            n = self.notifier
            n.raise_(server, WRITE, 0, n.occur(server, WRITE, "accepted: writable"))

    # -- steps ---------------------------------------------------------------------------

    def _timed_steps(self) -> list[Step]:
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

    def _steps_due(self, steps: list[Step], i: int) -> None:
        """At a step time, queue that instant's steps in file order, hand them out, and
        come back at the next step time (a callback chain: no process, no generator)."""
        at = steps[i].at_us
        n = len(steps)
        processes = self.processes
        while i < n and steps[i].at_us == at:
            step = steps[i]
            processes[step.process].due += 1
            self._due.append(step)
            i += 1
        self.dispatch_steps()
        if i < n:
            self.later(steps[i].at_us - at, self._steps_due, (steps, i))

    def dispatch_steps(self) -> None:
        """Hand the next due step to its process: at once if it is idle (it then runs and
        hands on the next one), else into its own queue, to run when it is free."""
        due = self._due
        while due:
            step = due.popleft()
            proc = self.processes[step.process]
            proc.due -= 1
            if proc.exited:
                continue
            proc.handed.append(step)
            if proc.idle:
                proc.poke()
                return

    def start(self) -> None:
        """Set up time 0: connected pairs, the processes and the step dispatcher."""
        self._connect_pairs()
        for proc in self.processes.values():
            proc.start()
        steps = self._timed_steps()
        if steps:
            # with the processes' own starts (urgent, at time 0), so steps at time 0 go
            # out before anything else scheduled for that instant
            _Callback(self.env, 0, (self._first_steps, (steps,)), URGENT)

    def _first_steps(self, steps: list[Step]) -> None:
        if steps[0].at_us:
            self.later(steps[0].at_us, self._steps_due, (steps, 0))
        else:
            self._steps_due(steps, 0)

    def run(self) -> None:
        """Run until ``plan.until_us`` inclusive; raises SimulationLimitError on runaway."""
        with collector_paused():
            self.start()
            self.env.run(until=self.plan.until_us + 1)
            self.flush()
