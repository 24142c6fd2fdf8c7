"""Simulated processes and their threads: windows, event objects, descriptors, loops,
handlers and steps.

Each thread is one simpy process that does one thing at a time: due steps first, then
calls handed to it by another thread, then arrived protocol infos, then (per its loop) the
oldest message or the lowest signalled event. It sleeps on a single wake-up event that
anything relevant pokes. A process with one thread is one ``SimProcess``; the threads of a
process with several are ``SimProcess`` objects that share the process's descriptors,
windows, event objects and protocol infos (R3), each with its own message queue, loop and
handlers. A window belongs to the thread that used it first, an event object's loop wait
to the thread that created it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Any, Protocol

import simpy
from simpy.events import Event

from ..names import INVALID_EVENT, PROTOCOL_INFO, SELECT_HANDLERS
from ..plan import (
    MAIN_THREAD,
    Call,
    Plan,
    ProcessPlan,
    Step,
    ThreadPlan,
    label,
)
from ..trace import Kind, Reason, TraceRecord
from ..winsock import BIT_NAMES
from ..winsock import WSA_MAXIMUM_WAIT_EVENTS as WAIT_MAX
from .compat import Callback, Environment
from .objects import EventObject, Window
from .probe import Probe
from .sockets import Descriptor, Message, ProtocolInfo, UnderlyingSocket
from .tracer import Tracer
from .waits import Blocked, Ctx

Gen = Generator[simpy.Event, Any, Any]
#: (result, error name or None)
Outcome = tuple[Any, str | None]


class Calls(Protocol):
    """The API as processes use it (``engine.calls.Api``)."""

    def execute(
        self, proc: SimProcess, call: Call, ctx: Ctx, started: int, retry: bool
    ) -> Outcome | Blocked: ...

    def loop_wait_returned(self, proc: SimProcess, ev: EventObject, index: int) -> None: ...

    def loop_wait_failed(self, proc: SimProcess, count: int) -> None: ...

    def loop_enumerate(
        self, proc: SimProcess, ev: EventObject, booked: dict[Descriptor, EventObject]
    ) -> list[tuple[Descriptor, list[tuple[int, int]]]]: ...

    def loop_select(
        self, proc: SimProcess
    ) -> tuple[list[tuple[str, Descriptor]], dict[str, list[str]], list[UnderlyingSocket]]: ...

    def auto_wsasocket(self, proc: SimProcess, info: ProtocolInfo, ctx: Ctx) -> None: ...

    def close_descriptor(
        self, proc: SimProcess, d: Descriptor, cause: int, abortive: bool
    ) -> None: ...

    def drop_info(self, info: ProtocolInfo, cause: int) -> None: ...


class Takes(Protocol):
    """The notification core as processes use it (``engine.notify.Notifier``)."""

    def take_message(self, proc: SimProcess, msg: Message, cause: int | None) -> None: ...


class Feeder(Protocol):
    """The step feeder as processes use it (``engine.steps.StepFeeder``)."""

    def dispatch(self) -> None: ...


class Host(Protocol):
    """The parts of a run a process works with (``engine.world.World``)."""

    @property
    def env(self) -> Environment: ...

    @property
    def plan(self) -> Plan: ...

    @property
    def tracer(self) -> Tracer: ...

    @property
    def api(self) -> Calls: ...

    @property
    def notifier(self) -> Takes: ...

    @property
    def feeder(self) -> Feeder: ...

    @property
    def probe(self) -> Probe | None: ...

    def expect_done(self, proc: SimProcess, call: Call, out: Outcome) -> None: ...


class SimProcess:
    """A simulated process with one thread, or one thread of a process with several
    (``main`` given: the process's main thread, whose objects it shares)."""

    def __init__(
        self,
        host: Host,
        plan: ProcessPlan,
        thread: ThreadPlan | None = None,
        main: SimProcess | None = None,
    ) -> None:
        self.host = host
        self.name = plan.name
        tp = thread if thread is not None else plan
        self.loop = tp.loop
        own = tp.handle_time_us
        self.handle_time = host.plan.network.handle_time_us if own is None else own
        self.handlers = tp.handlers
        self.thread = thread.name if thread is not None else MAIN_THREAD
        #: ``A``, or ``A/io`` for a thread of a process with several
        self.thread_label = label(self.name, self.thread, bool(plan.threads))
        #: who its loop acts as: the thread, or the library object the file names
        self.label = f"{self.name}/{tp.actor}" if tp.actor else self.thread_label
        self.select_sets = tp.select_sets
        self.handed: deque[Step] = deque()  # due steps given to us, run in order
        self.passed: deque[tuple[Call, Ctx]] = deque()  # calls another thread handed us
        self.due = 0  # our steps waiting in the feeder's queue for this instant
        self.idle = False
        if main is None:
            self.names: dict[str, Descriptor] = {}
            self.descriptors: list[Descriptor] = []
            self._counters: dict[str, int] = {}
            self.windows: dict[str, Window] = {}
            self.events: dict[str, EventObject] = {}
            self.infos: list[ProtocolInfo] = []
            #: the process's threads, main first (one: this)
            self.group: list[SimProcess] = [self]
        else:  # the process's objects are one set, whichever thread uses them (R3)
            self.names = main.names
            self.descriptors = main.descriptors
            self._counters = main._counters
            self.windows = main.windows
            self.events = main.events
            self.infos = main.infos
            self.group = main.group
            main.group.append(self)
        #: what an event object's signal wakes: this thread, or every thread of the process
        self.wake_event = self.poke if not plan.threads else self._poke_group
        self.messages: deque[Message] = deque()
        #: its open event objects in creation order, the ones its loop waits on (a dict
        #: as an ordered set: a close takes one out in constant time)
        self.event_list: dict[EventObject, None] = {}
        self._wait_data: tuple[list[EventObject], dict[str, Any]] | None = None  # _waits()
        self.infos_pending: deque[ProtocolInfo] = deque()
        self.evt_book: dict[Descriptor, EventObject] = {}
        #: the library object that booked a descriptor, when one did (``A/reader``)
        self.book_actor: dict[Descriptor, str] = {}
        self.exited = False
        #: the record of what it waits in now (None: it is not waiting)
        self.waiting: TraceRecord | None = None
        self._waiting_key: tuple[Any, ...] | None = None
        self.current: Call | None = None  # the call it is blocked in, if any
        self.received = 0
        self._wake: simpy.Event | None = None
        self.sim: simpy.Process | None = None  # its simpy process, once started

    # -- objects ------------------------------------------------------------------

    def window(self, name: str) -> Window:
        """The named window, created on first use."""
        w = self.windows.get(name)
        if w is None:
            w = self.windows[name] = Window(name, self)
        return w

    def event(self, name: str) -> EventObject:
        """The event currently bound to ``name``, created on first use; the invalid-handle
        name gives a closed event that no loop waits on."""
        ev = self.events.get(name)
        if ev is None:
            if name == INVALID_EVENT:
                ev = self.events[name] = EventObject(name, self)
                ev.closed = True
                return ev
            ev = self.create_event(name)
        return ev

    def create_event(self, name: str) -> EventObject:
        """WSACreateEvent: a new handle; the name now refers to it."""
        ev = EventObject(name, self)
        self.events[name] = ev
        self.event_list[ev] = None
        self._wait_data = None
        return ev

    def close_event(self, ev: EventObject) -> None:
        """WSACloseEvent, or the process exiting: the handle is gone; a thread waiting on
        it looks again (R78: undefined on Windows; here its wait fails)."""
        ev.closed = True
        creator: SimProcess = ev.owner  # type: ignore[assignment]  # events are made here
        creator.event_list.pop(ev, None)
        creator._wait_data = None
        creator.wake_event()  # a no-op for the one thread of a process: it is running

    def new_descriptor(self, base: str, sock: UnderlyingSocket, ctx: Ctx) -> Descriptor:
        """Create a descriptor; handlers always number names (``conn1``), steps reuse free ones."""
        current = self.names.get(base)
        if ctx.handler or (current is not None and current.open):
            n = self._counters.get(base, 0)
            while True:
                n += 1
                name = f"{base}{n}"
                taken = self.names.get(name)
                if taken is None or not taken.open:
                    break
            self._counters[base] = n
        else:
            name = base
        d = Descriptor(name, self, sock)
        sock.refs += 1
        self.names[name] = d
        self.names[base] = d
        if ctx.handler:
            ctx.bindings[base] = d
        self.descriptors.append(d)
        return d

    def resolve(self, name: str | None, ctx: Ctx) -> Descriptor | None:
        """A descriptor by name (handler bindings first), or the context default."""
        if name is None:
            return ctx.default
        d = ctx.bindings.get(name)
        return d if d is not None else self.names.get(name)

    # -- scheduling ---------------------------------------------------------------

    def _poke_group(self) -> None:
        """Wake every thread of the process (an event object any of them may wait on)."""
        for t in self.group:
            t.poke()

    def poke(self) -> None:
        """Wake the process if it sleeps; it then re-checks what it can do."""
        ev = self._wake
        if ev is not None:
            self._wake = None  # woken once: later pokes before it runs change nothing
            ev.succeed()

    def start(self) -> None:
        """Register the main loop with the simulation."""
        self.sim = self.host.env.process(self._main())

    def _main(self) -> Gen:
        host = self.host
        env = host.env
        tracer = host.tracer
        name = self.label
        while not self.exited:
            tracer.actor = name
            if self.handed:
                step = self.handed.popleft()
                self.waiting = None
                host.feeder.dispatch()  # the next step of this instant may go out
                yield from self._run_calls((step.call,), Ctx())
                continue
            if self.passed:
                call, ctx = self.passed.popleft()
                self.waiting = None
                yield from self._run_calls((call,), ctx)
                continue
            # with a step of this instant queued for us, wait for our turn (file order)
            # rather than take a notification first
            if not self.due:
                if self.infos_pending:
                    self.waiting = None
                    yield from self._on_info(self.infos_pending.popleft())
                    continue
                if self.loop == "messages" and self.messages:
                    # the message loop's body, inline: it runs once per message
                    self.waiting = None
                    msg = self.messages.popleft()
                    host.notifier.take_message(self, msg, None)
                    if self.handle_time:
                        tracer.actor = None
                        yield env.timeout(self.handle_time)
                        tracer.actor = name
                    calls = self.handlers.get(BIT_NAMES[msg.bit])
                    if calls:
                        yield from self._run_calls(calls, Ctx(default=msg.wparam, handler=True))
                    continue
                if self.loop == "events" and len(self.event_list) <= WAIT_MAX:
                    ev = self._signalled_event()
                    if ev is not None:
                        self.waiting = None
                        yield from self._on_event(ev)
                        continue
                elif self.loop == "select":
                    ready, waited, socks = host.api.loop_select(self)
                    if ready:
                        self.waiting = None
                        yield from self._on_ready(ready)
                        continue
                    self._block_select(waited, socks)
                if self.loop == "messages":
                    self._block(("GetMessage",), Reason.GET_MESSAGE)
                elif self.loop == "events":
                    self._block_events()
            # idle at the main wait point, where the step dispatcher may hand us a step
            # (inline rather than a sub-generator: this runs once per wake)
            self.idle = True
            self._wake = wake = Event(env)
            tracer.actor = None
            yield wake
            self.idle = False

    def _block(
        self,
        key: tuple[Any, ...],
        reason: Reason,
        call: str | None = None,
        descriptor: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Begin waiting: one ``block`` record per wait, not per retry."""
        if self.waiting is not None and self._waiting_key == key:
            return
        rec = self.host.tracer.emit(Kind.BLOCK, self.name, descriptor, None, None, reason)
        rec.call = call
        rec.data = data
        self.waiting = rec
        self._waiting_key = key

    def _waits(self) -> tuple[list[EventObject], dict[str, Any]]:
        """The open event objects an events loop waits on, and its block record's facts;
        made again only when an event object is created or closed."""
        waits = self._wait_data
        if waits is None:
            live = list(self.event_list)
            waits = self._wait_data = (live, {"handles": [ev.name for ev in live]})
        return waits

    def _block_events(self) -> None:
        count = len(self.event_list)
        if count > WAIT_MAX:
            # WSAWaitForMultipleEvents takes at most 64 handles (R77): the loop's wait
            # fails, once, and the loop waits for one to close (as with none, below)
            key = ("loop", count)
            if self.waiting is None or self._waiting_key != key:
                self.host.api.loop_wait_failed(self, count)
            self._block(key, Reason.TOO_MANY_EVENTS, "WSAWaitForMultipleEvents", None, None)
            return
        live, data = self._waits()
        if live:
            key = ("loop", *data["handles"])
            self._block(key, Reason.WAIT_EVENTS, "WSAWaitForMultipleEvents", None, data)
        else:
            self._block(("loop",), Reason.NO_EVENTS)

    def _block_select(self, waited: dict[str, list[str]], socks: list[UnderlyingSocket]) -> None:
        """A select loop waits until one of its sockets changes (or a step comes)."""
        key = ("select", *(tuple(v) for v in waited.values()))
        self._block(key, Reason.WAIT_SELECT, "select", None, waited)
        for s in socks:
            if self not in s.waiters:
                s.waiters.append(self)

    def _signalled_event(self) -> EventObject | None:
        for ev in self.event_list:
            if ev.signalled:
                return ev
        return None

    # -- loop bodies --------------------------------------------------------------

    def _on_event(self, ev: EventObject) -> Gen:
        host = self.host
        api = host.api
        index = self._waits()[0].index(ev)
        api.loop_wait_returned(self, ev, index)
        found = api.loop_enumerate(self, ev, self.evt_book)
        if self.handle_time:
            host.tracer.actor = None
            yield host.env.timeout(self.handle_time)
            host.tracer.actor = self.label
        handlers = self.handlers
        for d, bits in found:
            for bit, _ in bits:  # enumerate reports bits in the profile's post order
                if self.exited:
                    return
                calls = handlers.get(BIT_NAMES[bit])
                if calls:
                    yield from self._run_calls(calls, Ctx(default=d, handler=True))

    def _on_ready(self, ready: list[tuple[str, Descriptor]]) -> Gen:
        """The select loop's body: ``handle_time`` once, then per ready descriptor the
        handler of the set it was found in (on.READABLE, on.WRITABLE, on.EXCEPT), or the
        one for that descriptor (``on."READABLE@lsn"``, also for lsn1, lsn2, ...)."""
        host = self.host
        if self.handle_time:
            host.tracer.actor = None
            yield host.env.timeout(self.handle_time)
            host.tracer.actor = self.label
        for key, d in ready:
            if self.exited:
                return
            handler = SELECT_HANDLERS[key]
            get = self.handlers.get
            calls = (
                get(f"{handler}@{d.name}")
                or get(f"{handler}@{d.name.rstrip('0123456789')}")
                or get(handler)
            )
            if calls and d.open:
                yield from self._run_calls(calls, Ctx(default=d, handler=True))

    def _on_info(self, info: ProtocolInfo) -> Gen:
        calls = self.handlers.get(PROTOCOL_INFO)
        if calls is None:
            self.host.api.auto_wsasocket(self, info, Ctx())
            return
        yield from self._run_calls(calls, Ctx(info=info, handler=True))

    def _run_calls(self, calls: tuple[Call, ...], ctx: Ctx) -> Gen:
        host = self.host
        env = host.env
        api = host.api
        tracer = host.tracer
        for call in calls:
            if self.exited:
                return
            if call.thread is not None and call.thread != self.thread:  # handed over
                # to another thread, where it runs when that one is free; this one goes on
                self._pass(call, ctx)
                continue
            who = call.actor
            if who is not None:  # a library object of the process makes this call
                tracer.actor = who
            if call.name == "sleep":
                tracer.actor = None
                yield env.timeout(call.args["for_us"])
                tracer.actor = self.label
                continue
            started = env.now
            retry = False
            probe = host.probe
            while True:
                if probe is not None:
                    probe.calling(self, call, ctx)
                out = api.execute(self, call, ctx, started, retry)
                if probe is not None:
                    probe.called(self, call, out)
                if not isinstance(out, Blocked):
                    break
                self._block(out.key(), Reason.IN_CALL, out.call, out.descriptor, _facts(out))
                self.current = call
                for s in out.sockets:
                    s.waiters.append(self)
                if out.deadline is not None and out.deadline > env.now:
                    Callback(env, out.deadline - env.now, self.poke, ())
                self._wake = ev = Event(env)
                tracer.actor = None
                yield ev
                self.current = None
                if self.exited:  # another thread ended the process meanwhile
                    return
                tracer.actor = who or self.label
                retry = True
            self.waiting = None
            if who is not None:
                tracer.actor = self.label
            if call.expect is not None:
                host.expect_done(self, call, out)

    def _pass(self, call: Call, ctx: Ctx) -> None:
        """Hand a handler call to another thread of the process, with the handler's
        names; it runs there when that thread is free (a dropped call if it has exited)."""
        to = next(t for t in self.group if t.thread == call.thread)
        if to.exited:
            return
        mine = Ctx(ctx.default, ctx.info, handler=True)
        mine.bindings.update(ctx.bindings)
        to.passed.append((call, mine))
        if to.idle:
            to.poke()

    # -- exit -----------------------------------------------------------------------

    def exit(self, cause: int) -> None:
        """Close every descriptor, destroy windows, close events, drop pending infos:
        the whole process ends, whichever thread calls it."""
        api = self.host.api
        for d in self.descriptors:
            if d.open:
                api.close_descriptor(self, d, cause, abortive=False)
        for w in self.windows.values():
            self.destroy_window(w, cause)
        for t in self.group:
            for ev in t.event_list:
                ev.closed = True
            t.event_list.clear()
            t._wait_data = None
            t.infos_pending.clear()
            t.handed.clear()
            t.passed.clear()
            t.exited = True
            if t is not self:
                t.waiting = t.current = None
        for info in self.infos:  # imported or not: an exited target's infos let go (semantics 2)
            api.drop_info(info, cause)

    def exit_thread(self, cause: int) -> list[str]:
        """ExitThread: the thread's windows go, its registrations stay (W34); the last
        thread to end ends the process. The names of the windows it destroyed."""
        if all(t.exited for t in self.group if t is not self):
            self.exit(cause)
            return []
        gone = [w for w in self.windows.values() if w.owner is self and not w.destroyed]
        for w in gone:
            self.destroy_window(w, cause)
        self.handed.clear()
        self.passed.clear()
        self.exited = True
        return [w.name for w in gone]

    def destroy_window(self, w: Window, cause: int) -> None:
        """DestroyWindow: its queued messages are dropped, later posts too (Q17)."""
        w.destroyed = True
        kept: deque[Message] = deque()
        emit = self.host.tracer.emit
        owner: SimProcess = w.owner  # type: ignore[assignment]  # windows are made here
        for msg in owner.messages:
            if msg.window is w:
                emit(
                    Kind.DISCARD, self.name, msg.wparam.label, msg.sock.id, BIT_NAMES[msg.bit],
                    Reason.MESSAGE_DROPPED, cause, msg.gen, w.data,
                )  # fmt: skip
            else:
                kept.append(msg)
        owner.messages = kept


def _facts(out: Blocked) -> dict[str, Any] | None:
    """What a block record says besides the call and descriptor: a wait's handles, MSG_OOB."""
    if out.handles:
        return {"handles": list(out.handles)}
    return {"oob": True} if out.oob else None
