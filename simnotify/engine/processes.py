"""Simulated processes: windows, event objects, descriptors, loops, handlers and steps.

Each process is one simpy process that does one thing at a time: due steps first, then
arrived protocol infos, then (per its loop) the oldest message or the lowest signalled
event. It sleeps on a single wake-up event that anything relevant pokes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy
from simpy.events import Event

from ..plan import INVALID_EVENT, PROTOCOL_INFO, Call, ProcessPlan, Step
from ..winsock import BIT_NAMES
from .calls import Blocked
from .sockets import Descriptor, ProtocolInfo, UnderlyingSocket

if TYPE_CHECKING:
    from .notify import Message
    from .world import World

Gen = Generator[simpy.Event, Any, Any]


class Window:
    """A window owning part of its process's message queue."""

    __slots__ = ("destroyed", "name", "owner")

    def __init__(self, name: str, owner: SimProcess) -> None:
        self.name = name
        self.owner = owner
        self.destroyed = False


class EventObject:
    """A manual-reset event, usable only by its creating process (R69, R70)."""

    __slots__ = ("closed", "name", "owner", "signalled")

    def __init__(self, name: str, owner: SimProcess) -> None:
        self.name = name
        self.owner = owner
        self.signalled = False
        self.closed = False


class Ctx:
    """Names visible to one step or handler run: a default descriptor and bindings."""

    __slots__ = ("bindings", "default", "handler", "info")

    def __init__(
        self,
        default: Descriptor | None = None,
        info: ProtocolInfo | None = None,
        handler: bool = False,
    ) -> None:
        self.default = default
        self.info = info
        self.handler = handler
        self.bindings: dict[str, Descriptor] = {}


class SimProcess:
    """One single-threaded simulated process."""

    def __init__(self, world: World, plan: ProcessPlan) -> None:
        self.world = world
        self.name = plan.name
        self.loop = plan.loop
        own = plan.handle_time_us
        self.handle_time = world.plan.network.handle_time_us if own is None else own
        self.handlers = plan.handlers
        self.handed: deque[Step] = deque()  # due steps given to us, run in order
        self.due = 0  # our steps waiting in the world's queue for this instant
        self.idle = False
        self.names: dict[str, Descriptor] = {}
        self.descriptors: list[Descriptor] = []
        self._counters: dict[str, int] = {}
        self.windows: dict[str, Window] = {}
        self.messages: deque[Message] = deque()
        self.events: dict[str, EventObject] = {}
        self.event_list: list[EventObject] = []
        self._wait_label: str | None = None  # _wait_text's, until the handles change
        self.infos: list[ProtocolInfo] = []
        self.infos_pending: deque[ProtocolInfo] = deque()
        self.evt_book: dict[Descriptor, EventObject] = {}
        self.exited = False
        self.blocked: str | None = None
        self.current: Call | None = None  # the call it is blocked in, if any
        self.received = 0
        self._wake: simpy.Event | None = None

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
        self.event_list.append(ev)
        self._wait_label = None
        return ev

    def close_event(self, ev: EventObject) -> None:
        """WSACloseEvent, or the process exiting: the handle is gone."""
        ev.closed = True
        self._wait_label = None

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

    def poke(self) -> None:
        """Wake the process if it sleeps; it then re-checks what it can do."""
        ev = self._wake
        if ev is not None:
            self._wake = None  # woken once: later pokes before it runs change nothing
            ev.succeed()

    def _sleep(self) -> Gen:
        self._wake = ev = Event(self.world.env)
        yield ev

    def start(self) -> None:
        """Register the main loop with the simulation."""
        self.world.env.process(self._main())

    def _main(self) -> Gen:
        world = self.world
        env = world.env
        while not self.exited:
            if self.handed:
                step = self.handed.popleft()
                self.blocked = None
                world.dispatch_steps()  # the next step of this instant may go out
                yield from self._run_calls((step.call,), Ctx())
                continue
            # with a step of this instant queued for us, wait for our turn (file order)
            # rather than take a notification first
            if not self.due:
                if self.infos_pending:
                    self.blocked = None
                    yield from self._on_info(self.infos_pending.popleft())
                    continue
                if self.loop == "messages" and self.messages:
                    # the message loop's body, inline: it runs once per message
                    self.blocked = None
                    msg = self.messages.popleft()
                    world.notifier.take_message(self, msg, None)
                    if self.handle_time:
                        yield env.timeout(self.handle_time)
                    calls = self.handlers.get(BIT_NAMES[msg.bit])
                    if calls:
                        yield from self._run_calls(calls, Ctx(default=msg.wparam, handler=True))
                    continue
                if self.loop == "events":
                    ev = self._signalled_event()
                    if ev is not None:
                        self.blocked = None
                        yield from self._on_event(ev)
                        continue
                if self.loop != "none":
                    self._block("GetMessage" if self.loop == "messages" else self._wait_text())
            # idle at the main wait point, where the step dispatcher may hand us a step
            # (inline rather than a sub-generator: this runs once per wake)
            self.idle = True
            self._wake = wake = Event(env)
            yield wake
            self.idle = False

    def _block(self, what: str) -> None:
        if self.blocked != what:
            self.blocked = what
            self.world.emit("block", self.name, None, None, None, None, f"waiting in {what}")

    def _wait_text(self) -> str:
        """What the events loop waits in; made again only when its handles change."""
        text = self._wait_label
        if text is None:
            names = ", ".join(ev.name for ev in self.event_list if not ev.closed)
            text = (
                f"WSAWaitForMultipleEvents({names})" if names else "its event loop (no events yet)"
            )
            self._wait_label = text
        return text

    def _signalled_event(self) -> EventObject | None:
        for ev in self.event_list:
            if ev.signalled and not ev.closed:
                return ev
        return None

    # -- loop bodies --------------------------------------------------------------

    def _on_event(self, ev: EventObject) -> Gen:
        world = self.world
        api = world.api
        index = [e for e in self.event_list if not e.closed].index(ev)
        api.loop_wait_returned(self, ev, index)
        found: list[tuple[Descriptor, list[tuple[int, int]]]] = []
        for d, booked in self.evt_book.items():  # enumerating books and unbooks nothing
            if booked is ev and d.open:
                bits = api.loop_enumerate(self, d, ev)
                if bits:
                    found.append((d, bits))
        if self.handle_time:
            yield world.env.timeout(self.handle_time)
        handlers = self.handlers
        for d, bits in found:
            for bit, _ in bits:  # enumerate reports bits in the profile's post order
                if self.exited:
                    return
                calls = handlers.get(BIT_NAMES[bit])
                if calls:
                    yield from self._run_calls(calls, Ctx(default=d, handler=True))

    def _on_info(self, info: ProtocolInfo) -> Gen:
        calls = self.handlers.get(PROTOCOL_INFO)
        if calls is None:
            self.world.api.auto_wsasocket(self, info, Ctx())
            return
        yield from self._run_calls(calls, Ctx(info=info, handler=True))

    def _run_calls(self, calls: tuple[Call, ...], ctx: Ctx) -> Gen:
        env = self.world.env
        api = self.world.api
        for call in calls:
            if self.exited:
                return
            if call.name == "sleep":
                yield env.timeout(call.args["for_us"])
                continue
            started = env._now  # the property costs a call
            retry = False
            while True:
                out = api.execute(self, call, ctx, started, retry)
                if not isinstance(out, Blocked):
                    break
                self._block(out.what)
                self.current = call
                for s in out.sockets:
                    s.waiters.append(self)
                if out.deadline is not None and out.deadline > env.now:
                    self.world.later(out.deadline - env.now, self.poke, ())
                yield from self._sleep()
                retry = True
                self.current = None
            self.blocked = None
            if call.expect is not None:
                self.world.check_expect(self, call, out)

    # -- exit -----------------------------------------------------------------------

    def exit(self, cause: int) -> None:
        """Close every descriptor, destroy windows, close events, drop pending infos."""
        api = self.world.api
        for d in self.descriptors:
            if d.open:
                api.close_descriptor(self, d, cause, abortive=False)
        for w in self.windows.values():
            self.destroy_window(w, cause)
        for ev in self.event_list:
            self.close_event(ev)
        for info in self.infos:  # imported or not: an exited target's infos let go (semantics 2)
            api.drop_info(info, cause)
        self.infos_pending.clear()
        self.handed.clear()
        self.exited = True

    def destroy_window(self, w: Window, cause: int) -> None:
        """DestroyWindow: its queued messages are dropped, later posts too (Q17)."""
        w.destroyed = True
        kept: deque[Message] = deque()
        for msg in self.messages:
            if msg.window is w:
                self.world.emit(
                    "discard",
                    self.name,
                    msg.wparam.label,
                    msg.sock.id,
                    BIT_NAMES[msg.bit],
                    cause,
                    f"message dropped: window {w.name} destroyed",
                    msg.gen,
                )
            else:
                kept.append(msg)
        self.messages = kept
