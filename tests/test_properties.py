"""Property tests: random well-formed plans, run under both profiles, with invariants
checked after every API call and every simulation event.

The engine's unit and conformance tests pin chosen cases; these tests look for the
combinations nobody wrote down (duplications racing closes, registrations replaced
mid-traffic, back-pressure, exits with protocol infos in flight). Plans are built
directly, without TOML, so hundreds of runs fit in the default suite.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simnotify.engine.calls import Outcome
from simnotify.engine.objects import EventObject
from simnotify.engine.probe import Probe
from simnotify.engine.processes import SimProcess
from simnotify.engine.sockets import Descriptor, ProtocolInfo, UnderlyingSocket
from simnotify.engine.waits import Blocked, Ctx
from simnotify.engine.world import World
from simnotify.names import PROTOCOL_INFO
from simnotify.oracle import verdicts
from simnotify.plan import (
    Call,
    ConnectionPlan,
    NetworkPlan,
    Plan,
    ProcessPlan,
    Step,
    ThreadPlan,
)
from simnotify.profiles import NonlastClose, get_profile
from simnotify.runner import run_plan
from simnotify.trace import Reason, TraceRecord
from simnotify.winsock import ACCEPT, ALL_BITS, BIT_NAMES, CLOSE, OOB, READ, V1_BITS, WRITE

PROFILES = ("observed", "documented")
#: What WSAEnumNetworkEvents takes from the record, per profile (semantics 3.5, W18):
#: ``True`` = record ∩ registration mask, ``False`` = the whole record.
ENUM_TAKES_ONLY_MASKED = {"observed": True, "documented": False}
NOTIFICATIONS = ("record", "post")
#: Calls that create a socket for a descriptor name never used before.
CREATE_ON_FIRST_USE = ("listen", "connect")


# -- the checked world ---------------------------------------------------------------


class Checker(Probe):
    """The engine's probe and a record observer: invariants checked where the engine
    decides (every raise, every enumerate, every API call) and after every simpy event."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.world: World | None = None
        self.trace: list[TraceRecord] = []
        self.infos: list[ProtocolInfo] = []
        self.raised_seqs: set[int] = set()  # seqs of record/post records made by raise_
        self.freed: Counter[str] = Counter()
        self.checks_made = 0
        self._no_socket: bool | None = None
        self._before_poll: object = None
        self.polls = 0  # select and WSAPoll attempts checked

    # the observer: every record, in order (batches come between simpy events)
    def records(self, batch: list[TraceRecord]) -> None:
        for r in batch:
            if r.kind == "free" and r.socket is not None:
                self.freed[r.socket] += 1
        self.trace.extend(batch)

    # the probe
    def raised(self, s: UnderlyingSocket, bit: int, latched: bool, made: int | None) -> None:
        """Invariant 2: a latched bit produces no notification; a notification latches."""
        assert self.world is not None
        name = BIT_NAMES[bit]
        where = f"raise({s.id}, {name}) at {self.world.env.now}us"
        if latched:
            assert made is None, f"{where}: notified although latched"
        if made is not None:
            assert s.latch & bit, f"{where}: notified but not latched"
            self.raised_seqs.add(made)
        else:
            last = self.world.tracer.batch[-1]
            assert (last.kind, last.socket, last.event) == ("suppress", s.id, name), (
                f"{where}: no notification, no why"
            )

    def enumerated(
        self,
        d: Descriptor,
        ev: EventObject | None,
        record: int,
        mask: int,
        errors: dict[int, int],
        out: list[tuple[int, int]],
    ) -> None:
        """Invariant 3: WSAEnumNetworkEvents returns and clears exactly its profile's scope."""
        s = d.sock
        got = 0
        for bit, err in out:
            assert not got & bit, f"enumerate({d.label}) returned {BIT_NAMES[bit]} twice"
            got |= bit
            assert err == errors.get(bit, 0), f"enumerate({d.label}): wrong error for {bit}"
        scope = record & mask if ENUM_TAKES_ONLY_MASKED[self.profile] else record
        assert got == scope, (
            f"enumerate({d.label}) under {self.profile}: returned {got:#x}, "
            f"record {record:#x}, mask {mask:#x}"
        )
        assert s.record == record & ~scope, f"enumerate({d.label}) left {s.record:#x}"
        if ev is not None:
            assert not ev.signalled, f"enumerate({d.label}, {ev.name}) did not reset the event"

    def _notification_state(self) -> object:
        """Everything a notification depends on: registrations, records, latches, errors,
        the nonblocking flag, event objects and queued messages (W29)."""
        world = self.world
        assert world is not None
        sockets = [
            (s.id, id(s.reg), s.record, s.latch, dict(s.err), s.nonblocking, s.write_blocked)
            for s in world.table.sockets
        ]
        procs = [
            (p.name, [(e.name, e.signalled, e.closed) for e in p.event_list], len(p.messages))
            for p in world.processes.values()
        ]
        return sockets, procs

    def calling(self, proc: SimProcess, call: Call, ctx: Ctx) -> None:
        if call.name in ("select", "WSAPoll"):
            self._before_poll = self._notification_state()
        d = proc.resolve(call.args.get("socket"), ctx)
        self._no_socket = "socket" in call.args and (
            (d is None and call.name not in CREATE_ON_FIRST_USE) or (d is not None and not d.open)
        )

    def called(self, proc: SimProcess, call: Call, out: Outcome | Blocked) -> None:
        if self._no_socket:  # the scenario's mistake, answered as Windows answers it
            assert out == (None, "WSAENOTSOCK"), f"{call.name} on no socket: {out}"
        if call.name in ("select", "WSAPoll"):  # W29: polling changes no notification state
            assert self._notification_state() == self._before_poll, f"{call.name} changed state"
            self.polls += 1
        self.check()

    def duplicated(self, info: ProtocolInfo) -> None:
        self.infos.append(info)

    # the state
    def check(self) -> None:
        """Invariants 1, 4 and 5 on the current state."""
        self.checks_made += 1
        self._check_registrations()
        self._check_lifetimes()
        self._check_bytes()

    def _check_registrations(self) -> None:
        """Invariant 1: one consistent registration per socket."""
        world = self.world
        assert world is not None
        via_stays_open = (
            world.profile.close_of_nonlast_descriptor_cancels_registration is not NonlastClose.NEVER
        )
        seen: set[int] = set()
        for s in world.table.sockets:
            reg = s.reg
            if reg is None:
                continue
            assert id(reg) not in seen, f"{s.id} shares a registration object"
            seen.add(id(reg))
            assert reg.via.sock is s, f"{s.id}: registered via {reg.via.label} of {reg.via.sock.id}"
            assert reg.mask != 0, f"{s.id}: registration with mask 0"
            assert not reg.mask & ~ALL_BITS, f"{s.id}: mask {reg.mask:#x}"
            assert not s.closed, f"{s.id}: freed but still registered"
            assert (reg.window is None) != (reg.event is None), f"{s.id}: {reg.target}"
            if via_stays_open:
                # closing the descriptor a registration was made through cancels it
                assert reg.via.open, f"{s.id}: registered via closed {reg.via.label}"

    def _check_lifetimes(self) -> None:
        """Invariant 4: refs = open descriptors + unused infos; freed exactly at 0."""
        world = self.world
        assert world is not None
        freed = Counter(self.freed)
        for r in world.tracer.batch:
            if r.kind == "free" and r.socket is not None:
                freed[r.socket] += 1
        open_refs: Counter[str] = Counter()
        ever: set[str] = set()
        for proc in world.processes.values():
            for d in proc.descriptors:
                ever.add(d.sock.id)
                if d.open:
                    open_refs[d.sock.id] += 1
        info_refs: Counter[str] = Counter()
        for info in self.infos:
            gone = info.arrived and world.processes[info.target].exited
            if info.holds_ref and not info.used and not gone:
                info_refs[info.sock.id] += 1
        queued = {n.id for s in world.table.sockets for n in s.accq}
        for s in world.table.sockets:
            where = f"{s.id} at {world.env.now}us"
            want = open_refs[s.id] + info_refs[s.id]
            assert s.refs == want, (
                f"{where}: refs {s.refs}, open descriptors {open_refs[s.id]}, "
                f"unused protocol infos {info_refs[s.id]}"
            )
            if s.id in ever:
                assert s.closed == (s.refs == 0), f"{where}: closed={s.closed}, refs {s.refs}"
                assert freed[s.id] == int(s.closed), f"{where}: freed {freed[s.id]}x"
            else:
                # a connection nobody accepted: alive while it waits in a listener's queue
                assert s.closed != (s.id in queued), f"{where}: closed={s.closed}, unaccepted"
                assert not freed[s.id], f"{where}: unaccepted, yet freed"

    def _check_bytes(self) -> None:
        """Invariant 5: every byte sent is received, buffered somewhere, or dropped."""
        world = self.world
        assert world is not None
        t = world.totals
        sockets = world.table.sockets
        buffered = sum(s.rx + s.oob + s.sndq + s.inflight for s in sockets)
        assert min(min(s.rx, s.oob, s.sndq, s.inflight) for s in sockets) >= 0
        assert t.sent == t.received + buffered + t.dropped, (
            f"at {world.env.now}us: sent {t.sent} != received {t.received} "
            f"+ buffered {buffered} + dropped {t.dropped}"
        )

    def check_trace(self) -> None:
        """Invariants 2 (completeness) and 6, once the run is over."""
        world = self.world
        assert world is not None
        trace = self.trace
        for r in trace:
            if r.kind in NOTIFICATIONS and r.seq not in self.raised_seqs:
                # a WSAEventSelect re-labels unconsumed bits for its registration; that is
                # the one record that is not a new notification
                assert r.reason is Reason.RESURFACED, f"record {r.seq} not made by raise_"
        blocked = {n: p.waiting is not None for n, p in world.processes.items()}
        found = verdicts(trace, {n: "it" if b else None for n, b in blocked.items()})
        n = len(trace)
        for v in found:
            if v.kind == "lost":
                assert v.cause is not None and 0 <= v.cause < n, f"lost without a cause: {v}"
        for i, r in enumerate(trace):
            assert r.seq == i, f"record {i} has seq {r.seq}"
            assert r.cause is None or 0 <= r.cause < r.seq, f"record {i}: cause {r.cause}"


def run_checked(plan: Plan, profile: str) -> Checker:
    """Run ``plan`` under ``profile`` one simpy event at a time, every invariant checked
    after each and at every point the engine decides; the checker afterwards."""
    checker = Checker(profile)
    world = World(plan, get_profile(profile), [checker], probe=checker)
    checker.world = world
    try:
        world.start()
        checker.check()
        env = world.env
        until = plan.until_us
        while env.peek() <= until:
            env.step()
            checker.check()
        world.tracer.flush()
        checker.check_trace()
    except Exception as exc:
        exc.add_note(f"under profile {profile!r}, at {world.env.now}us")
        raise
    return checker


# -- plans ---------------------------------------------------------------------------

PROCESSES = ("A", "B", "C", "D")
WINDOWS = ("w1", "w2")
EVENTS = ("e1", "e2")
#: Descriptor names a step may use; ``zz`` never exists, the rest do in some runs.
EXTRA_NAMES = ("L", "k0", "k1", "a", "conn1", "conn2", "dup1", "zz")


def call(name: str, **args: Any) -> Call:
    """A call with canonical arguments (``as_`` stands for ``as``)."""
    if "as_" in args:
        args["as"] = args.pop("as_")
    return Call(name, args)


def recv(nbytes: int = -1, **flags: bool) -> Call:
    """recv on the handler's default descriptor unless ``socket`` is given."""
    return call("recv", socket=None, bytes=nbytes, **flags)


HANDLERS: dict[str, list[tuple[Call, ...]]] = {
    "FD_READ": [
        (),
        (recv(),),
        (recv(100),),
        (recv(10, peek=True),),
        (recv(), call("send", bytes=10)),
        (recv(), call("send", socket="c0", bytes=10)),  # relay to another connection
    ],
    "FD_WRITE": [
        (),
        (call("send", bytes=100),),
        (call("send", bytes=3000),),
        tuple(call("send", bytes=1500) for _ in range(4)),  # back-pressure with 2000-byte buffers
    ],
    "FD_OOB": [(), (recv(oob=True),), (recv(),)],
    "FD_ACCEPT": [(), (call("accept", socket=None),), (call("accept", socket=None, as_="conn"),)],
    "FD_CONNECT": [(), (call("send", bytes=10),)],
    "FD_CLOSE": [(), (call("closesocket", socket=None),), (recv(), call("closesocket"))],
    PROTOCOL_INFO: [
        (call("WSASocket", as_="dup"),),
        (),  # the info is never imported: its reference must still go when we exit
        (call("WSASocket"), call("WSASocket")),  # the second use fails (R2)
        (
            call("WSASocket", as_="dup"),
            call("WSAEventSelect", socket="dup", event="e1", mask=READ | CLOSE),
        ),
    ],
}


@st.composite
def process_plans(draw: st.DrawFn, name: str) -> ProcessPlan:
    """A process with a loop of any kind and a few small handler lists."""
    handlers: dict[str, tuple[Call, ...]] = {}
    for key, choices in HANDLERS.items():
        if key == PROTOCOL_INFO and draw(st.booleans()):
            continue  # no handler: the process imports each info itself
        calls = draw(st.sampled_from(choices))
        if calls or key == PROTOCOL_INFO:
            handlers[key] = calls
    loop = draw(st.sampled_from(("none", "messages", "events", "select")))
    if loop == "select":
        # every ready descriptor is accepted from, or read and closed: the loop never spins
        handlers["READABLE@L"] = (call("accept", as_="a"),)
        handlers["READABLE"] = (recv(), call("closesocket"))
    return ProcessPlan(
        name,
        loop=loop,
        handle_time_us=draw(st.sampled_from((10, 50, 500))),
        handlers=handlers,
    )


MASKS = st.one_of(
    st.integers(0, V1_BITS),
    st.sampled_from((0, READ | CLOSE, READ | WRITE | CLOSE, ACCEPT | READ | CLOSE, ALL_BITS)),
)


#: Step kinds, repeated for weight; "other" is one of the rarer calls.
STEP_KINDS = (
    *("WSAAsyncSelect", "WSAEventSelect", "send", "recv", "WSAEnumNetworkEvents") * 2,
    *("WSADuplicateSocket", "WSADuplicateSocket", "send_oob", "shutdown", "closesocket"),
    *("PeekMessage", "WSASocket", "FIONBIO", "setsockopt", "exit", "connect", "accept", "other"),
    *("select", "WSAPoll"),
)
#: WSAPoll ``events`` masks a random poll asks.
POLL_ASKS = (0x0100, 0x0010, 0x0300 | 0x0010, 0x0200, 0x0400)
#: Rarer calls, mostly about event objects and windows, or bound to fail.
OTHER_CALLS = (
    call("WSACloseEvent", event="e1"),
    call("WSASetEvent", event="e2"),
    call("WSAResetEvent", event="e1"),
    call("DestroyWindow", window="w2"),
    call("WSAWaitForMultipleEvents", handles=EVENTS, timeout_us=0),
    call("WSAWaitForMultipleEvents", handles=("e1",), timeout_us=500),
    call("WSAWaitForMultipleEvents", handles=("e1", "e1"), wait_all=True, timeout_us=0),
    call("WSASocket", info=None),
    call("accept", socket="L", defer=True),
    call("listen", socket="L", backlog=1),
    call("sleep", for_us=300),
)


@st.composite
def step_calls(
    draw: st.DrawFn,
    own: tuple[str, ...],
    shared: tuple[str, ...],
    procs: tuple[str, ...],
    listener: str | None,
) -> Call:
    """One step's call; it may name a descriptor ``proc`` never had or already closed."""
    pool = draw(st.integers(0, 9))
    if pool < 7 and own:
        sock = draw(st.sampled_from(own))
    elif pool < 9:
        sock = draw(st.sampled_from(shared))  # ours if a duplicate was imported under it
    else:
        sock = draw(st.sampled_from(EXTRA_NAMES))
    kind = draw(st.sampled_from(STEP_KINDS))
    if kind == "WSAAsyncSelect":
        return call(
            kind,
            socket=sock,
            window=draw(st.sampled_from(WINDOWS)),
            message="WM_SOCKET",
            mask=draw(MASKS),
        )
    if kind == "WSAEventSelect":
        return call(kind, socket=sock, event=draw(st.sampled_from(EVENTS)), mask=draw(MASKS))
    if kind == "send":
        size = draw(st.sampled_from((0, 1, 100, 1500, 5000, 70_000)))
        return call("send", socket=sock, bytes=size)
    if kind == "send_oob":
        return call("send", socket=sock, bytes=draw(st.integers(1, 5)), oob=True)
    if kind == "recv":
        return call(
            "recv",
            socket=sock,
            bytes=draw(st.sampled_from((-1, 1, 10, 1000))),
            peek=draw(st.booleans()),
            oob=draw(st.sampled_from((False, False, False, True))),
            bad_buffer=draw(st.sampled_from((False, False, False, True))),
        )
    if kind == "shutdown":
        return call(kind, socket=sock, how=draw(st.sampled_from(("send", "receive", "both"))))
    if kind == "closesocket":
        return call(kind, socket=sock, abortive=draw(st.booleans()))
    if kind == "WSAEnumNetworkEvents":
        return call(kind, socket=sock, event=draw(st.sampled_from((None, *EVENTS))))
    if kind == "PeekMessage":
        return call(kind, window=draw(st.sampled_from(WINDOWS)))
    if kind == "WSADuplicateSocket":
        as_name = draw(st.sampled_from((None, "dup1", sock)))
        return call(kind, socket=sock, target=draw(st.sampled_from(procs)), as_=as_name)
    if kind == "WSASocket":
        return call(kind, info=draw(st.sampled_from((sock, "dup1"))), as_=None)
    if kind == "FIONBIO":
        return call("ioctlsocket", socket=sock, fionbio=draw(st.sampled_from((0, 1))))
    if kind == "setsockopt":
        option = draw(st.sampled_from(("SO_OOBINLINE", "SO_OOBINLINE", "SO_LINGER")))
        if option == "SO_LINGER":
            value: Any = draw(st.sampled_from(((1, 0), (1, 1), (0, 0))))
        else:
            value = draw(st.sampled_from((0, 1)))
        return call(kind, socket=sock, option=option, value=value)
    if kind == "exit":
        return call("exit")
    if kind == "connect":
        refused = listener is None or draw(st.booleans())
        to = None if listener is None else (listener, "L")
        return call(kind, socket=draw(st.sampled_from(("k0", "k1"))), to=to, refused=refused)
    if kind == "accept":
        return call(kind, socket="L", as_=draw(st.sampled_from((None, "a"))))
    if kind in ("select", "WSAPoll"):
        names = tuple(draw(st.lists(st.sampled_from((sock, *own, *shared)), max_size=3)))
        timeout = draw(st.sampled_from((0, 0, 300, None)))
        if kind == "select":
            sets = {k: draw(st.sampled_from(((), names))) for k in ("read", "write", "except")}
            return call(kind, **sets, timeout_us=timeout)
        fds = tuple((n, draw(st.sampled_from(POLL_ASKS))) for n in names)
        return call(kind, fds=fds, timeout_us=timeout)
    if draw(st.booleans()):
        return draw(
            st.sampled_from(
                (
                    call("ioctlsocket", socket=sock, fionread=True),
                    call("getsockopt", socket=sock, option="SO_LINGER"),
                    call("getsockopt", socket=sock, option="SO_OOBINLINE"),
                )
            )
        )
    return draw(st.sampled_from(OTHER_CALLS))


#: How a listener is registered at time 0 (accepted sockets inherit it).
LISTENER_REGISTRATIONS = (
    call(
        "WSAAsyncSelect", socket="L", window="w1", message="WM_SOCKET", mask=ACCEPT | READ | CLOSE
    ),
    call("WSAEventSelect", socket="L", event="e1", mask=ACCEPT | READ | OOB | CLOSE),
    call("WSAEventSelect", socket="L", event="e2", mask=ACCEPT),
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """2-4 processes, 1-3 connected pairs, sometimes a listener, 5-40 random steps."""
    procs = PROCESSES[: draw(st.integers(2, 4))]
    processes = tuple(draw(process_plans(p)) for p in procs)
    own: dict[str, list[str]] = {p: [] for p in procs}
    connections = []
    for j in range(draw(st.integers(1, 3))):
        client, server = draw(st.sampled_from(procs)), draw(st.sampled_from(procs))
        connections.append(ConnectionPlan((client, f"c{j}"), (server, f"s{j}")))
        own[client].append(f"c{j}")
        own[server].append(f"s{j}")
    small = draw(st.booleans())
    network = NetworkPlan(
        latency_us=draw(st.sampled_from((100, 1_000))),
        ipc_delay_us=draw(st.sampled_from((200, 1_000))),
        recv_buffer=2_000 if small else 65_536,
        send_buffer=draw(st.sampled_from((2_000, 65_536))) if small else 65_536,
    )
    until = draw(st.sampled_from((10_000, 30_000)))
    tick = until // 50
    steps: list[Step] = []
    listener = draw(st.one_of(st.none(), st.sampled_from(procs)))
    if listener is not None:
        own[listener].append("L")
        steps.append(Step(0, listener, call("listen", socket="L", backlog=draw(st.integers(1, 4)))))
        register = draw(st.sampled_from(LISTENER_REGISTRATIONS))
        steps.append(Step(0, listener, register))
        for k in range(draw(st.integers(1, 3))):
            who = draw(st.sampled_from(procs))
            own[who].append(f"k{k}")
            at = draw(st.integers(1, 50)) * tick
            steps.append(
                Step(at, who, call("connect", socket=f"k{k}", to=(listener, "L"), refused=False))
            )
    for conn in connections:
        if draw(st.booleans()):
            # hand one end to another process early, so later steps share the socket
            (owner, name), target = (
                draw(st.sampled_from((conn.client, conn.server))),
                draw(st.sampled_from(procs)),
            )
            at = draw(st.integers(0, 5)) * tick
            steps.append(Step(at, owner, call("WSADuplicateSocket", socket=name, target=target)))
            own[target].append(name)
    shared = (*(n for names in own.values() for n in names), "dup1")
    for _ in range(draw(st.integers(5, 40))):
        proc = draw(st.sampled_from(procs))
        at = draw(st.integers(0, 50)) * tick
        if own[proc] and draw(st.integers(0, 9)) == 0:
            # a nonblocking burst: the second send meets a full buffer (WSAEWOULDBLOCK)
            sock = draw(st.sampled_from(own[proc]))
            size = max(network.send_buffer, network.recv_buffer) + 3_000
            burst = (
                call("ioctlsocket", socket=sock, fionbio=1),
                *[call("send", socket=sock, bytes=size)] * 2,
            )
            steps.extend(Step(at, proc, c) for c in burst)
            continue
        made = draw(step_calls(tuple(own[proc]), shared, procs, listener))
        steps.append(Step(at, proc, made))
    steps.sort(key=lambda st_: st_.at_us)  # stable: ties keep drawing order
    return Plan("property", until, processes, tuple(steps), tuple(connections), network)


# -- the properties -------------------------------------------------------------------

COMMON = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _holds_everywhere(plan: Plan) -> None:
    for profile in PROFILES:
        checker = run_checked(plan, profile)
        assert checker.checks_made > 0


@settings(COMMON, max_examples=100)
@given(plan=plans())
def test_invariants_hold_in_random_scenarios(plan: Plan) -> None:
    """100 random scenarios under both profiles: every invariant after every happening (the
    quick run; ``-m long``, run by .ci/run, checks 10,000)."""
    _holds_everywhere(plan)


@settings(COMMON, max_examples=100)
@given(plan=plans())
def test_select_and_wsapoll_never_change_notification_state(plan: Plan) -> None:
    """W29: in random scenarios that poll, no select or WSAPoll attempt (one that returns,
    fails or blocks) changes a registration, record, latch, error, event object or queued
    message; the checker compares the state around every attempt."""
    assume(any(step.call.name in ("select", "WSAPoll") for step in plan.steps))
    polls = sum(run_checked(plan, profile).polls for profile in PROFILES)
    assume(polls > 0)  # a poll whose process exited first checks nothing


@pytest.mark.long
@settings(COMMON, max_examples=10_000)
@given(plan=plans())
def test_invariants_hold_in_random_scenarios_long(plan: Plan) -> None:
    """The same properties over 10,000 scenarios (``pytest -m long``)."""
    _holds_everywhere(plan)


# -- cases the properties found ---------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_exit_gives_back_infos_it_never_imported(profile: str) -> None:
    """B takes a protocol info but never calls WSASocket, then exits: the info's reference
    goes with it (semantics 2), so A's close frees the socket and the peer sees FD_CLOSE."""
    plan = Plan(
        "info-never-imported",
        10_000,
        (
            ProcessPlan("A"),
            ProcessPlan("B", handlers={PROTOCOL_INFO: (call("sleep", for_us=1_000),)}),
            ProcessPlan("peer", "events", handlers={"FD_CLOSE": (call("closesocket"),)}),
        ),
        (
            Step(0, "A", call("WSADuplicateSocket", socket="c", target="B")),
            Step(0, "peer", call("WSAEventSelect", socket="s", event="e", mask=READ | CLOSE)),
            Step(5_000, "B", call("exit")),
            Step(6_000, "A", call("closesocket", socket="c")),
        ),
        (ConnectionPlan(("A", "c"), ("peer", "s")),),
    )
    checker = run_checked(plan, profile)
    freed = [(r.t_us, r.socket) for r in checker.trace if r.kind == "free"]
    assert freed[0] == (6_000, "S1")
    taken = [r for r in checker.trace if r.kind == "deliver" and r.process == "peer"]
    assert [r.event for r in taken] == ["FD_CLOSE"]


# -- threads and library objects ----------------------------------------------------------


@st.composite
def threaded_plans(draw: st.DrawFn) -> Plan:
    """A random plan whose processes may have a second thread ``io`` (any loop, its own
    handlers, its loop maybe acting as a library object), with some steps moved to it,
    some made by a library object, and some threads ending early."""
    plan = draw(plans())
    processes = []
    for p in plan.processes:
        if draw(st.booleans()):
            t = draw(process_plans("io"))
            actor = draw(st.sampled_from((None, "notifier")))
            thread = ThreadPlan("io", t.loop, t.handle_time_us, t.handlers, actor)
            processes.append(replace(p, threads=(thread,)))
        else:
            processes.append(p)
    threaded = {p.name for p in processes if p.threads}
    steps = []
    for s in plan.steps:
        if s.process in threaded and draw(st.booleans()):
            s = replace(s, thread="io")
        if draw(st.integers(0, 4)) == 0:
            s = replace(s, call=replace(s.call, actor=f"{s.process}/obj"))
        steps.append(s)
    for name in sorted(threaded):
        if draw(st.integers(0, 3)) == 0:
            at = draw(st.integers(0, plan.until_us))
            steps.append(Step(at, name, call("ExitThread"), thread="io"))
    steps.sort(key=lambda st_: st_.at_us)
    return replace(plan, processes=tuple(processes), steps=tuple(steps))


@settings(COMMON, max_examples=150)
@given(plan=threaded_plans())
def test_invariants_hold_with_threads(plan: Plan) -> None:
    """Random scenarios with threads and library objects: every invariant after every
    happening, and the run's verdicts and expectations are made without error."""
    _holds_everywhere(plan)
    names = ("main", "io", "notifier", "obj")
    for profile in PROFILES:
        res = run_plan(plan, profile)
        for p in plan.processes:
            # who acts is the process (one thread, no object) or one of its labels
            own = {f"{p.name}/{n}" for n in names} if p.threads else {p.name, f"{p.name}/obj"}
            acted = {r.actor for r in res.trace if r.kind == "call" and r.process == p.name}
            assert acted <= own, (p.name, acted - own)
            judged = {v.process for v in res.verdicts if v.process.split("/")[0] == p.name}
            assert judged <= own, (p.name, judged - own)
            threads = {f"{p.name}/main", f"{p.name}/io"} if p.threads else {p.name}
            assert threads <= set(res.ends)  # an end state per thread
