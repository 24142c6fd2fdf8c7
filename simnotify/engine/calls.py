"""One function per Winsock call (semantics 3.5).

A call either completes at this instant, returning ``Outcome`` (result, error name), or
returns ``Blocked`` without side effects visible to others, and is retried when one of
the named sockets changes or the deadline passes. The trace gets a ``call`` record when
the call completes, before its effects, so every effect can name it as its cause.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..names import INVALID_SOCKET
from ..plan import Call, Plan
from ..profiles import NonlastClose, Profile
from ..trace import Kind, Reason, TraceRecord
from ..winsock import ACCEPT, BIT_NAMES, OOB, POLL, READ, WRITE, WSAError, error_name, poll_names
from ..winsock import WSA_MAXIMUM_WAIT_EVENTS as WAIT_MAX
from .compat import Callback, Environment
from .network import Network
from .notify import Notifier
from .objects import EventObject
from .probe import Probe
from .readiness import (
    exceptional,
    readable,
    revents,
    shown_by_except,
    shown_by_read,
    shown_by_write,
    shown_pairs,
    writable,
)
from .sockets import Descriptor, ProtocolInfo, SocketTable, State, Totals, UnderlyingSocket
from .tracer import Tracer
from .waits import Blocked, Ctx

if TYPE_CHECKING:
    from .processes import SimProcess

#: (result, error name or None)
Outcome = tuple[Any, str | None]

E = WSAError
WOULDBLOCK = "WSAEWOULDBLOCK"
CALL = Kind.CALL
ENUM, WAIT = "WSAEnumNetworkEvents", "WSAWaitForMultipleEvents"
#: The result of an events loop's enumerate that found nothing, most of its records: one
#: list shared by them all, as a call's arguments are (a record's values never change).
FOUND_NOTHING: list[str] = []


def _err(code: WSAError) -> Outcome:
    return None, code.name


def _note(rec: TraceRecord, **facts: Any) -> None:
    """Add structured facts to a call record, keeping what is there (the step's id)."""
    rec.data = {**rec.data, **facts} if rec.data else facts


#: select's sets: the test of each, and the FD_ events a ready socket shows
_Test = Callable[[UnderlyingSocket], bool]
_Shown = Callable[[UnderlyingSocket], int]
_SELECT_TESTS: dict[str, tuple[_Test, _Shown]] = {
    "read": (readable, shown_by_read),
    "write": (writable, shown_by_write),
    "except": (exceptional, shown_by_except),
}


def _covers(names: tuple[str, ...], d: Descriptor) -> bool:
    """A set names ``d`` itself, or the base it was numbered from (conn -> conn1)."""
    return d.name in names or d.name.rstrip("0123456789") in names


def _loop_sets(proc: SimProcess) -> dict[str, list[Descriptor]]:
    """The open descriptors of a select loop's sets (no sets: every one, for reading)."""
    read, write, except_ = proc.select_sets
    open_ = [d for d in proc.descriptors if d.open]
    if not (read or write or except_):
        return {"read": open_, "write": [], "except": []}
    return {
        key: [d for d in open_ if _covers(names, d)]
        for key, names in (("read", read), ("write", write), ("except", except_))
    }


def _bits_text(bits: list[tuple[int, int]]) -> list[str]:
    return [f"{BIT_NAMES[b]}:{error_name(e)}" if e else BIT_NAMES[b] for b, e in bits]


class Api:
    """The calls a scenario can make, bound to one run."""

    def __init__(
        self,
        env: Environment,
        plan: Plan,
        profile: Profile,
        tracer: Tracer,
        notifier: Notifier,
        network: Network,
        table: SocketTable,
        totals: Totals,
        processes: dict[str, SimProcess],
        probe: Probe | None = None,
    ) -> None:
        self.env = env
        self.probe = probe
        self.plan = plan
        self.p = profile
        self.tracer = tracer
        self._emit = tracer.emit
        self.notifier = notifier
        self.network = network
        self.table = table
        self.totals = totals
        self.processes = processes
        self._table: dict[str, Callable[..., Outcome | Blocked]] = {
            "socket": self.socket,
            "listen": self.listen,
            "connect": self.connect,
            "accept": self.accept,
            "send": self.send,
            "recv": self.recv,
            "shutdown": self.shutdown,
            "closesocket": self.closesocket,
            "WSAAsyncSelect": self.wsaasyncselect,
            "WSAEventSelect": self.wsaeventselect,
            "WSAEnumNetworkEvents": self.wsaenumnetworkevents,
            "WSACreateEvent": self.wsacreateevent,
            "WSASetEvent": self.wsasetevent,
            "WSAResetEvent": self.wsaresetevent,
            "WSACloseEvent": self.wsacloseevent,
            "WSAWaitForMultipleEvents": self.wsawaitformultipleevents,
            "PeekMessage": self.peekmessage,
            "DestroyWindow": self.destroywindow,
            "WSADuplicateSocket": self.wsaduplicatesocket,
            "WSASocket": self.wsasocket,
            "setsockopt": self.setsockopt,
            "getsockopt": self.getsockopt,
            "ioctlsocket": self.ioctlsocket,
            "select": self.select,
            "WSAPoll": self.wsapoll,
            "exit": self.exit,
            "ExitThread": self.exit_thread,
        }
        self._enum_call = Call("WSAEnumNetworkEvents", {"socket": None, "event": None})
        self._wait_call = Call("WSAWaitForMultipleEvents", {"handles": (), "timeout_us": None})
        self._retry = False
        self._wait_args: dict[EventObject, dict[str, list[str]]] = {}
        #: an events loop's enumerate arguments, per event object then descriptor
        self._enum_args: dict[EventObject, dict[Descriptor, dict[str, str]]] = {}

    def execute(
        self, proc: SimProcess, call: Call, ctx: Ctx, started: int, retry: bool
    ) -> Outcome | Blocked:
        """Run ``call``; ``started`` is when its first attempt was made, ``retry`` if not now."""
        self._retry = retry
        return self._table[call.name](proc, call, ctx, started)

    # -- helpers ------------------------------------------------------------------

    def _begin(
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
        data = {"id": call.id} if call.id else None
        if d is None:
            return self._emit(
                CALL, proc.name, None, None, None, None, None, None, data, None, call.name, args
            )
        return self._emit(
            CALL, proc.name, d.label, d.sock.id, None, None, None, None, data, None, call.name, args
        )

    @staticmethod
    def _done(rec: TraceRecord, out: Outcome) -> Outcome:
        rec.result, rec.error = out
        return out

    def _fail(
        self, proc: SimProcess, call: Call, code: WSAError, d: Descriptor | None = None
    ) -> Outcome:
        return self._done(self._begin(proc, call, d), _err(code))

    @staticmethod
    def _open(proc: SimProcess, call: Call, ctx: Ctx) -> Descriptor | None:
        # SimProcess.resolve, inline: every call on a socket starts here
        name = call.args.get("socket")
        d = ctx.default if name is None else ctx.bindings.get(name) or proc.names.get(name)
        return d if d is not None and d.open else None

    def _new_socket_descriptor(self, proc: SimProcess, name: str, ctx: Ctx) -> Descriptor:
        return proc.new_descriptor(name, self.table.new(), ctx)

    # -- socket lifecycle ------------------------------------------------------------

    def socket(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        rec = self._begin(proc, call, None)
        d = self._new_socket_descriptor(proc, call.args["as"], ctx)
        rec.descriptor, rec.socket = d.label, d.sock.id
        return self._done(rec, (d.name, None))

    def listen(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        name = call.args.get("socket")
        d = self._open(proc, call, ctx)
        if d is None and name not in (None, INVALID_SOCKET) and proc.resolve(name, ctx) is None:
            d = self._new_socket_descriptor(proc, name, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        s = d.sock
        rec = self._begin(proc, call, d)
        if s.state not in (State.NEW, State.LISTENING):
            return self._done(rec, _err(E.WSAEINVAL))
        s.state = State.LISTENING
        s.backlog = max(1, int(call.args.get("backlog", 5)))
        return self._done(rec, (0, None))

    def connect(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome | Blocked:
        name = call.args.get("socket")
        d = self._open(proc, call, ctx)
        retry = self._retry
        if d is None and name not in (None, INVALID_SOCKET) and proc.resolve(name, ctx) is None:
            d = self._new_socket_descriptor(proc, name, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        s = d.sock
        if retry:
            if s.state == State.CONNECTING:
                return Blocked("connect", d.label, (s,))
            rec = self._begin(proc, call, d)
            if s.state == State.CONNECTED:
                return self._done(rec, (0, None))
            return self._done(rec, (None, error_name(s.connect_err or int(E.WSAECONNREFUSED))))
        if s.state == State.CONNECTED:
            return self._fail(proc, call, E.WSAEISCONN, d)
        if s.state == State.CONNECTING:
            return self._fail(proc, call, E.WSAEALREADY, d)
        if s.state == State.LISTENING:
            return self._fail(proc, call, E.WSAEINVAL, d)
        listener = self._listener(call)
        if not s.nonblocking:
            self.network.connect(s, listener)
            return Blocked("connect", d.label, (s,))
        rec = self._begin(proc, call, d)
        self.network.connect(s, listener)
        return self._done(rec, (None, WOULDBLOCK))

    def _listener(self, call: Call) -> UnderlyingSocket | None:
        to = call.args.get("to")
        if call.args.get("refused") or to is None:
            return None
        target = self.processes.get(to[0])
        d = target.names.get(to[1]) if target is not None else None
        if d is None or not d.open or d.sock.state != State.LISTENING:
            return None
        return d.sock

    def accept(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome | Blocked:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        lst = d.sock
        if lst.state != State.LISTENING:
            return self._fail(proc, call, E.WSAEINVAL, d)
        if not lst.accq:
            if not lst.nonblocking or self._retry:
                return Blocked("accept", d.label, (lst,))
            rec = self._begin(proc, call, d)
            self.notifier.reenable(lst, ACCEPT, rec.seq)  # R82
            return self._done(rec, (None, WOULDBLOCK))
        rec = self._begin(proc, call, d)
        if call.args.get("defer"):
            if self.p.deferred_accept_reenables:
                self.notifier.reenable(lst, ACCEPT, rec.seq)
            return self._done(rec, _err(E.WSATRY_AGAIN))  # CF_DEFER: no re-enable (R58)
        n = lst.accq.popleft()
        dn = proc.new_descriptor(call.args.get("as") or "conn", n, ctx)
        n.nonblocking = lst.nonblocking
        n.oobinline = lst.oobinline
        n.linger = lst.linger
        self.notifier.inherit(proc, lst, n, dn, rec.seq)
        self._book_inherited(proc, d, dn)
        if n.cond(WRITE):
            nt = self.notifier
            nt.raise_(n, WRITE, 0, nt.occur(n, WRITE, Reason.ACCEPTED_WRITABLE, rec.seq))
        self.notifier.reenable(lst, ACCEPT, rec.seq)  # R57
        _note(rec, new=dn.label, new_socket=n.id)
        return self._done(rec, (dn.name, None))

    @staticmethod
    def _book_inherited(proc: SimProcess, listener: Descriptor, dn: Descriptor) -> None:
        ev = proc.evt_book.get(listener)
        if ev is not None:
            proc.evt_book[dn] = ev

    # -- data -----------------------------------------------------------------------

    def send(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome | Blocked:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        s = d.sock
        n = call.args.get("bytes", 0)
        if s.shut_send:
            return self._fail(proc, call, E.WSAESHUTDOWN, d)
        if s.rst:
            return self._fail(proc, call, E.WSAECONNRESET, d)
        if s.aborted:
            return self._fail(proc, call, E.WSAECONNABORTED, d)
        if s.state != State.CONNECTED:
            return self._fail(proc, call, E.WSAENOTCONN, d)
        if call.args.get("oob"):
            rec = self._begin(proc, call, d)
            self.totals.sent += n
            self.network.send_urgent(s, n)
            return self._done(rec, (n, None))
        free = s.snd_free
        if free > 0:  # a zero-length send too: on a full buffer it fails and arms FD_WRITE
            rec = self._begin(proc, call, d)
            k = min(n, free) if self.p.send_accepts_partial and s.nonblocking else n
            s.sndq += k
            self.totals.sent += k
            self.network.pump(s)
            if self.p.successful_send_clears_pending_write:  # else FD_WRITE stays (W14)
                self.notifier.discard(s, WRITE, rec.seq, Reason.CLEARED_BY_SEND)
            rec.result = k
            return k, None
        if not s.nonblocking or self._retry:
            return Blocked("send", d.label, (s,))
        rec = self._begin(proc, call, d)
        s.write_blocked = True
        self.notifier.reenable(s, WRITE, rec.seq)
        return self._done(rec, (None, WOULDBLOCK))

    def recv(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome | Blocked:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        s = d.sock
        args = call.args  # canonical: bytes an int, the flags bools (plan.py)
        want = args.get("bytes", -1)
        peek = args.get("peek", False)
        urgent = args.get("oob", False)
        out: Outcome
        if args.get("bad_buffer"):
            out = _err(E.WSAEFAULT)
        elif s.shut_recv:
            out = _err(E.WSAESHUTDOWN)  # R83: receiving is disallowed after SD_RECEIVE
        elif urgent:
            if s.oobinline:
                out = _err(E.WSAEINVAL)
            elif s.oob:
                out = (s.oob if want < 0 else min(want, s.oob), None)
            elif not s.nonblocking or self._retry:
                return Blocked("recv", d.label, (s,), oob=True)
            else:
                out = (None, WOULDBLOCK)
        elif s.rx:
            out = (s.rx if want < 0 else min(want, s.rx), None)
        elif s.rst:
            out = _err(E.WSAECONNRESET) if self.p.recv_reports_reset else (0, None)
        elif s.fin:
            out = (0, None)
        elif s.state not in (State.CONNECTED, State.CONNECTING):
            out = _err(E.WSAENOTCONN)
        elif not s.nonblocking or self._retry:
            # a call already blocked stays blocked even if another process's select
            # has made the socket nonblocking meanwhile (semantics 3.5, inferred)
            return Blocked("recv", d.label, (s,))
        else:
            out = (None, WOULDBLOCK)
        rec = self._begin(proc, call, d)
        k = out[0]
        if k and not peek:
            if urgent:
                s.oob -= k
            else:
                s.rx -= k
            self.totals.received += k
            proc.received += k
            if not urgent:
                self.network.window_opened(s)
                if s.rx == 0:
                    self.network.rx_drained(s, rec.seq)
        if not urgent and not peek and not s.rx and s.oob and self.p.normal_recv_drops_urgent:
            self.totals.dropped += s.oob  # the read passed the urgent mark
            s.oob = 0
        if out[1] is None and not urgent and s.rx == 0 and (s.fin or s.rst) and want < 0:
            _note(rec, eof=True)
        p = self.p
        reg = s.reg
        if (p.recv_fault_reenables or out[1] != "WSAEFAULT") and (
            out[1] is None
            or out[1] == WOULDBLOCK
            or p.failed_recv_reenables_in_event_mode
            or (reg is not None and reg.is_message)
        ):
            if not urgent or p.oob_recv_reenables_read:
                self.notifier.reenable(s, READ, rec.seq)
            if urgent or p.normal_recv_reenables_oob:
                self.notifier.reenable(s, OOB, rec.seq)
        return self._done(rec, out)

    def shutdown(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        s = d.sock
        if s.state != State.CONNECTED:
            return self._fail(proc, call, E.WSAENOTCONN, d)
        rec = self._begin(proc, call, d)
        how = call.args.get("how", "send")
        if how in ("send", "both"):
            s.shut_send = True
            self.network.send_fin(s)
            self.network.both_shut(s, rec.seq)
        if how in ("receive", "both"):
            s.shut_recv = True
            if (s.rx or s.oob) and self.p.shutdown_receive_resets:  # R83: unread data resets
                self.totals.dropped += s.rx + s.oob
                s.rx = s.oob = 0
                s.aborted = True
                self.network.abort(s)
        if self.p.shutdown_cancels_registration or (
            how == "both" and self.p.shutdown_both_cancels_registration
        ):
            self.notifier.cancel(s, d, rec.seq, Reason.SHUTDOWN)
        return self._done(rec, (0, None))

    def closesocket(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        s = d.sock
        onoff, secs = s.linger
        if onoff and secs and s.nonblocking and (s.sndq or s.inflight) and s.refs == 1:
            return self._fail(proc, call, E.WSAEWOULDBLOCK, d)  # R86: d stays valid
        rec = self._begin(proc, call, d)
        self.close_descriptor(proc, d, rec.seq, bool(call.args.get("abortive")))
        return self._done(rec, (0, None))

    def close_descriptor(self, proc: SimProcess, d: Descriptor, cause: int, abortive: bool) -> None:
        """closesocket's effect: non-last per profile, last releases the socket (R5, R6)."""
        s = d.sock
        d.open = False
        proc.evt_book.pop(d, None)
        s.refs -= 1
        if s.refs > 0:
            rule = self.p.close_of_nonlast_descriptor_cancels_registration
            reg = s.reg
            if reg is not None and (
                rule is NonlastClose.ALWAYS
                or (rule is NonlastClose.IF_REGISTERED_VIA_DESCRIPTOR and reg.via is d)
            ):
                self.notifier.cancel(s, d, cause, Reason.CLOSED_NONLAST)
            return
        if abortive:
            s.linger = (1, 0)
        self.release(s, d, cause)

    def release(self, s: UnderlyingSocket, d: Descriptor | None, cause: int) -> None:
        """The last reference is gone: cancel the registration, close the connection."""
        if d is not None:
            self.notifier.cancel(s, d, cause, Reason.SOCKET_CLOSED)
        else:
            self.notifier.forget(s)
        s.closed = True
        self.totals.dropped += s.rx + s.oob
        s.rx = s.oob = 0
        net = self.network
        if s.state == State.LISTENING:
            while s.accq:
                n = s.accq.popleft()
                n.closed = True
                self.totals.dropped += n.rx + n.oob
                n.rx = n.oob = 0
                net.abort(n)
        elif s.state == State.CONNECTED and not s.rst:
            if s.linger == (1, 0):
                net.abort(s)
            else:
                net.send_fin(s)
        self.tracer.emit(Kind.FREE, None, d.label if d else None, s.id, None, None, cause)
        self.table.wake(s)

    # -- registration -----------------------------------------------------------------

    def wsaasyncselect(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        window = proc.window(call.args.get("window", "main"))
        if window.destroyed and self.p.asyncselect_checks_window:
            return self._fail(proc, call, E.WSAEINVAL, d)  # R31
        rec = self._begin(proc, call, d)
        mask = int(call.args.get("mask", 0))
        message = call.args.get("message", "WM_SOCKET")
        self.notifier.select(proc, d, mask, rec.seq, window=window, message=message)
        proc.evt_book.pop(d, None)
        return self._done(rec, (0, None))

    def wsaeventselect(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        mask = int(call.args.get("mask", 0))
        name = call.args.get("event")
        ev = proc.event(name) if name is not None else None
        checked = mask or (ev is not None and self.p.eventselect_zero_mask_checks_event)
        if checked and (ev is None or ev.closed):
            return self._fail(proc, call, E.WSAEINVAL, d)  # W42
        rec = self._begin(proc, call, d)
        self.notifier.select(proc, d, mask, rec.seq, event=ev if mask else None)
        if mask and ev is not None:
            proc.evt_book[d] = ev
            if call.actor is not None or proc.book_actor:
                self._book_actor(proc, d, call.actor)
        else:
            proc.evt_book.pop(d, None)
        return self._done(rec, (0, None))

    @staticmethod
    def _book_actor(proc: SimProcess, d: Descriptor, actor: str | None) -> None:
        """The library object a loop enumerates ``d`` for: the one that registered it."""
        if actor is None:
            proc.book_actor.pop(d, None)
        else:
            proc.book_actor[d] = actor

    def wsaenumnetworkevents(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        name = call.args.get("event")
        ev = proc.event(name) if name is not None else None
        if ev is not None and ev.closed:
            if self.p.enum_checks_event_handle:
                return self._fail(proc, call, E.WSA_INVALID_HANDLE, d)  # R71: nothing changes
            ev = None  # an unchecked dead handle: the record is taken, nothing is reset
        rec = self._begin(proc, call, d)
        bits = self.notifier.enumerate(proc, d, ev, rec.seq)
        return self._done(rec, (_bits_text(bits), None))

    # -- event objects --------------------------------------------------------------------

    def wsacreateevent(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        rec = self._begin(proc, call, None)
        proc.create_event(call.args["event"])
        return self._done(rec, (0, None))

    def _live_event(self, proc: SimProcess, call: Call) -> EventObject | None:
        ev = proc.event(call.args["event"])
        return None if ev.closed else ev

    def wsasetevent(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        ev = self._live_event(proc, call)
        if ev is None:
            return self._fail(proc, call, E.WSA_INVALID_HANDLE)
        rec = self._begin(proc, call, None)
        if not ev.signalled:
            ev.signalled = True
            ev.owner.wake_event()
        return self._done(rec, (0, None))

    def wsaresetevent(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        ev = self._live_event(proc, call)
        if ev is None:
            return self._fail(proc, call, E.WSA_INVALID_HANDLE)
        rec = self._begin(proc, call, None)
        ev.signalled = False  # the record keeps its bits (R75)
        return self._done(rec, (0, None))

    def wsacloseevent(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        ev = self._live_event(proc, call)
        if ev is None:
            return self._fail(proc, call, E.WSA_INVALID_HANDLE)  # R79
        rec = self._begin(proc, call, None)
        proc.close_event(ev)
        return self._done(rec, (0, None))

    def wsawaitformultipleevents(
        self, proc: SimProcess, call: Call, ctx: Ctx, started: int
    ) -> Outcome | Blocked:
        names: tuple[str, ...] = tuple(call.args.get("handles", ()))
        wait_all = bool(call.args.get("wait_all"))
        duplicates = wait_all and len(set(names)) != len(names)
        if not 1 <= len(names) <= WAIT_MAX or (duplicates and self.p.wait_all_rejects_duplicates):
            return self._fail(proc, call, E.WSA_INVALID_PARAMETER)  # R77
        evs = [proc.event(n) for n in names]
        if any(ev.closed for ev in evs):
            return self._fail(proc, call, E.WSA_INVALID_HANDLE)
        index: int | None = None
        if wait_all:
            if all(ev.signalled for ev in evs):
                index = 0
        else:
            index = next((i for i, ev in enumerate(evs) if ev.signalled), None)
        if index is not None:
            return self._done(self._begin(proc, call, None), (index, None))
        timeout = call.args.get("timeout_us")
        now = self.env.now
        if timeout is not None and now >= started + timeout:
            return self._done(self._begin(proc, call, None), ("WSA_WAIT_TIMEOUT", None))
        deadline = None if timeout is None else started + timeout
        return Blocked("WSAWaitForMultipleEvents", None, (), deadline, names)

    def loop_wait_returned(self, proc: SimProcess, ev: EventObject, index: int) -> None:
        """Trace the events loop's own wait returning (each wake counts as a happening)."""
        args = self._wait_args.get(ev)
        if args is None:
            args = self._wait_args[ev] = {"events": [ev.name]}
        self._emit(
            CALL, proc.name, None, None, None, None, None, None, None, None, WAIT, args
        ).result = index

    def loop_wait_failed(self, proc: SimProcess, count: int) -> None:
        """Trace an events loop's wait on more event objects than one wait takes: it fails
        with WSA_INVALID_PARAMETER (R77). The record gives their number, not their names,
        so it stays small however many there are."""
        self._emit(
            CALL, proc.name, None, None, None, None, None, None, None,
            error_name(E.WSA_INVALID_PARAMETER), WAIT, {"events": count},
        )  # fmt: skip

    def loop_enumerate(
        self, proc: SimProcess, ev: EventObject, booked: dict[Descriptor, EventObject]
    ) -> list[tuple[Descriptor, list[tuple[int, int]]]]:
        """The events loop enumerating, with the signalled event, each open descriptor it
        booked with that event: one call record each; what each one found."""
        found: list[tuple[Descriptor, list[tuple[int, int]]]] = []
        emit, enumerate_, cache, name, probe = (
            self._emit,
            self.notifier.enumerate,
            self._enum_args.setdefault(ev, {}),
            proc.name,
            self.probe,
        )
        actors = proc.book_actor  # empty unless library objects registered
        for d, event in booked.items():  # enumerating books and unbooks nothing
            if event is not ev or not d.open:
                continue
            if actors:  # the loop enumerates for the object that registered d
                self.tracer.actor = actors.get(d, proc.label)
            args = cache.get(d)
            if args is None:  # one dict per (descriptor, event), not per wake
                args = cache[d] = {"socket": d.name, "event": ev.name}
            s = d.sock
            rec = emit(CALL, name, d.label, s.id, None, None, None, None, None, None, ENUM, args)
            if not s.record and probe is None:  # as mostly: it only resets the event (R71)
                ev.signalled = False
                rec.result = FOUND_NOTHING
                continue
            bits = enumerate_(proc, d, ev, rec.seq)
            if bits:
                rec.result = _bits_text(bits)
                found.append((d, bits))
            else:
                rec.result = FOUND_NOTHING
        if actors:
            self.tracer.actor = proc.label
        return found

    # -- windows ----------------------------------------------------------------------------

    def peekmessage(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        window = proc.window(call.args.get("window", "main"))
        rec = self._begin(proc, call, None)
        taken = [m for m in proc.messages if m.window is window]
        if taken:
            proc.messages = deque(m for m in proc.messages if m.window is not window)
        for msg in taken:
            self.notifier.take_message(proc, msg, rec.seq)
        _note(rec, wparam=[m.wparam.name for m in taken])
        return self._done(rec, ([m.text() for m in taken], None))

    def destroywindow(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        window = proc.window(call.args["window"])
        if window.destroyed:
            return self._fail(proc, call, E.WSAEINVAL)
        rec = self._begin(proc, call, None)
        proc.destroy_window(window, rec.seq)
        return self._done(rec, (0, None))

    # -- duplication ------------------------------------------------------------------------

    def wsaduplicatesocket(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        target = self.processes.get(call.args["target"])
        if target is None or target.exited:
            return self._fail(proc, call, E.WSAEINVAL, d)
        rec = self._begin(proc, call, d)
        as_name = call.args.get("as") or d.name
        info = ProtocolInfo(
            call.args.get("info") or as_name,
            d.sock,
            proc.name,
            target.name,
            self.p.dup_info_holds_reference,
        )
        info.as_name = as_name
        info.seq = rec.seq
        if info.holds_ref:
            d.sock.refs += 1
        if target.name == proc.name:  # a second descriptor in this process: usable at once
            target.infos.append(info)
        if self.probe is not None:
            self.probe.duplicated(info)
        Callback(self.env, self.plan.network.ipc_delay_us, self._info_arrival, (info,))
        return self._done(rec, (0, None))

    def _info_arrival(self, info: ProtocolInfo) -> None:
        target = self.processes[info.target]
        data = {"info": info.name, "from": info.source}
        seq = self.tracer.emit(
            Kind.IPC, target.name, None, info.sock.id, None, None, info.seq, None, data
        ).seq
        if target.exited:
            self.drop_info(info, seq)
            return
        info.arrived = True
        if info.target == info.source and info in target.infos:
            if info.used:  # WSASocket took it before it "arrived": nothing to import
                return
        else:
            target.infos.append(info)
        target.infos_pending.append(info)
        target.poke()

    def drop_info(self, info: ProtocolInfo, cause: int) -> None:
        """An unused protocol info whose target is gone gives its reference back."""
        if info.used or not info.holds_ref:
            return
        info.used = True
        s = info.sock
        s.refs -= 1
        if s.refs == 0 and not s.closed:
            self.release(s, None, cause)

    def wsasocket(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        name = call.args.get("info")
        info: ProtocolInfo | None
        if name is None:
            info = ctx.info
        else:
            info = next((i for i in reversed(proc.infos) if i.name == name), None)
        reused = info is not None and info.used and self.p.protocol_info_single_use
        if info is None or reused or info.target != proc.name or info.sock.closed:
            return self._fail(proc, call, E.WSAEINVAL)  # R2
        rec = self._begin(proc, call, None)
        d = self._adopt(proc, info, call.args.get("as") or info.as_name, ctx)
        rec.descriptor, rec.socket = d.label, d.sock.id
        if ctx.handler:
            ctx.default = d
        return self._done(rec, (d.name, None))

    def _adopt(self, proc: SimProcess, info: ProtocolInfo, name: str, ctx: Ctx) -> Descriptor:
        first = not info.used
        info.used = True
        d = proc.new_descriptor(name, info.sock, ctx)
        if info.holds_ref and first:
            info.sock.refs -= 1  # the info's reference passes to the descriptor
        return d

    def auto_wsasocket(self, proc: SimProcess, info: ProtocolInfo, ctx: Ctx) -> None:
        """A process without an on.PROTOCOL_INFO handler imports the socket itself."""
        call = Call("WSASocket", {"info": info.name, "as": info.as_name})
        ctx.info = info
        self.wsasocket(proc, call, ctx, self.env.now)

    # -- options ------------------------------------------------------------------------------

    def setsockopt(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        rec = self._begin(proc, call, d)
        value = call.args["value"]
        if call.args["option"] == "SO_LINGER":
            d.sock.linger = (int(bool(value[0])), int(value[1]))
        else:
            d.sock.oobinline = int(bool(value))
        return self._done(rec, (0, None))

    def getsockopt(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        rec = self._begin(proc, call, d)
        option = call.args["option"]
        if option == "SO_LINGER":
            return self._done(rec, (list(d.sock.linger), None))
        if option == "SO_ERROR":  # the pending error; the profile says if reading clears it
            err = d.sock.so_error
            if self.p.so_error_read_clears:
                d.sock.so_error = 0
            return self._done(rec, (error_name(err) if err else 0, None))
        return self._done(rec, (d.sock.oobinline, None))

    def ioctlsocket(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        d = self._open(proc, call, ctx)
        if d is None:
            return self._fail(proc, call, E.WSAENOTSOCK)
        s = d.sock
        if call.args.get("fionread"):
            return self._done(self._begin(proc, call, d), (s.rx, None))
        if call.args.get("fionbio"):
            rec = self._begin(proc, call, d)
            s.nonblocking = True
            return self._done(rec, (0, None))
        if s.reg is not None and self.p.fionbio_blocking_rejected_while_registered:
            return self._fail(proc, call, E.WSAEINVAL, d)  # R25, R26; W30
        rec = self._begin(proc, call, d)
        s.nonblocking = False
        return self._done(rec, (0, None))

    # -- readiness: select and WSAPoll read state and change none (W29) -------------------

    @staticmethod
    def _named(proc: SimProcess, name: str, ctx: Ctx) -> Descriptor | None:
        d = ctx.bindings.get(name) or proc.names.get(name)
        return d if d is not None and d.open else None

    def _timed_out(self, started: int, call: Call) -> tuple[bool, int | None]:
        """(the wait is over, its deadline): ``timeout_us`` None waits for ever."""
        timeout = call.args.get("timeout_us")
        if timeout is None:
            return False, None
        return self.env.now >= started + timeout, started + timeout

    def select(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome | Blocked:
        args = call.args
        sets = [(key, args.get(key, ())) for key in ("read", "write", "except")]
        if not any(names for _, names in sets):
            return self._fail(proc, call, E.WSAEINVAL)  # all three sets empty
        found: dict[str, list[str]] = {}
        shows: list[list[str]] = []
        socks: list[UnderlyingSocket] = []
        for key, names in sets:
            test, shown = _SELECT_TESTS[key]
            ready: list[str] = []
            for name in names:
                d = self._named(proc, name, ctx)
                if d is None:
                    return self._fail(proc, call, E.WSAENOTSOCK)
                s = d.sock
                socks.append(s)
                if test(s):
                    ready.append(d.name)
                    shows += shown_pairs(s.id, shown(s))
            found[key] = ready
        count = sum(map(len, found.values()))
        over, deadline = self._timed_out(started, call)
        if not count and not over:
            return Blocked("select", None, tuple(socks), deadline)
        rec = self._begin(proc, call, None)
        _note(rec, **found, shows=shows)
        self._polled(socks, rec.seq)
        return self._done(rec, (count, None))

    def wsapoll(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome | Blocked:
        fds: tuple[tuple[str, int], ...] = call.args.get("fds", ())
        pri = self.p.poll_rejects_pollpri and any(events & POLL.PRI for _, events in fds)
        if not fds or pri:
            return self._fail(proc, call, E.WSAEINVAL)  # POLLPRI is not supported
        found: dict[str, list[str]] = {}
        shows: list[list[str]] = []
        socks: list[UnderlyingSocket] = []
        for name, events in fds:
            d = self._named(proc, name, ctx)
            if d is None:
                found[name] = ["POLLNVAL"]
                continue
            socks.append(d.sock)
            out, shown = revents(d.sock, events, self.p)
            if out:
                found[d.name] = poll_names(out)
                shows += shown_pairs(d.sock.id, shown)
        over, deadline = self._timed_out(started, call)
        if not found and not over:
            return Blocked("WSAPoll", None, tuple(socks), deadline)
        rec = self._begin(proc, call, None)
        _note(rec, revents=found, shows=shows)
        self._polled(socks, rec.seq)
        return self._done(rec, (len(found), None))

    def loop_select(
        self, proc: SimProcess
    ) -> tuple[list[tuple[str, Descriptor]], dict[str, list[str]], list[UnderlyingSocket]]:
        """A select loop's select: the (set, descriptor) pairs found ready, in set order,
        the sets it waited on, and their sockets. One call record when something is ready."""
        chosen = _loop_sets(proc)
        ready: list[tuple[str, Descriptor]] = []
        shows: list[list[str]] = []
        socks: list[UnderlyingSocket] = []
        for key, ds in chosen.items():
            test, shown = _SELECT_TESTS[key]
            for d in ds:
                socks.append(d.sock)
                if test(d.sock):
                    ready.append((key, d))
                    shows += shown_pairs(d.sock.id, shown(d.sock))
        waited = {key: [d.name for d in ds] for key, ds in chosen.items() if ds}
        if ready:
            args = {k: list(v) for k, v in waited.items()}
            rec = self._emit(
                CALL, proc.name, None, None, None, None, None, None, None, None, "select", args
            )
            found = {key: [d.name for k, d in ready if k == key] for key in chosen}
            _note(rec, **found, shows=shows)
            rec.result = len(ready)
            self._polled(socks, rec.seq)
        return ready, waited, socks

    def _polled(self, socks: list[UnderlyingSocket], cause: int) -> None:
        """A profile where polling re-reports recorded events (Wine's) signals them."""
        if self.p.polling_signals_recorded_events:
            for s in dict.fromkeys(socks):
                self.notifier.resignal(s, cause)

    def exit(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        rec = self._begin(proc, call, None)
        proc.exit(rec.seq)
        return self._done(rec, (0, None))

    def exit_thread(self, proc: SimProcess, call: Call, ctx: Ctx, started: int) -> Outcome:
        rec = self._begin(proc, call, None)
        gone = proc.exit_thread(rec.seq)
        if gone:
            _note(rec, windows=gone)
        return self._done(rec, (0, None))
