"""Trace records (schema version 2): one per happening, in order, typed, JSON-serialisable,
and the observers they go to.

Every fact a reader needs is a field: the record's ``kind`` (:class:`Kind`), who acted
(``actor``), why (``reason``, a :class:`Reason` code), the error a notification carries,
and kind-specific facts in ``data``. The human text (``detail``) is derived from those
fields when it is shown or exported; nothing reads it.

Records are slotted objects filled in slot by slot, because the engine makes several per
simulated happening and this is the hottest allocation of a run.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from operator import attrgetter
from typing import Any, Protocol

#: Version of the record layout; the first line of a JSON Lines trace names it.
SCHEMA_VERSION = 2


class Kind(StrEnum):
    """What a record is about (a ``str``: ``rec.kind == "call"`` holds)."""

    CALL = "call"  #: an API call completed, with its arguments, result and error
    OCCUR = "occur"  #: a fact about a socket that makes an event's condition true
    RECORD = "record"  #: a bit set in a socket's network event record
    POST = "post"  #: a message posted to a window
    SIGNAL = "signal"  #: an event object set
    DELIVER = "deliver"  #: a process took a notification (a message, an enumerated bit)
    REGISTER = "register"  #: the socket's one registration slot changed
    SUPPRESS = "suppress"  #: an occurrence that notified nobody, and why
    DISCARD = "discard"  #: a recorded bit or queued message removed unseen, and why
    BLOCK = "block"  #: a process began waiting
    IPC = "ipc"  #: a duplicated socket's protocol info reached its target process
    FREE = "free"  #: the last reference to an underlying socket went away


class Reason(StrEnum):
    """Why a record happened: one code per cause the engine distinguishes."""

    # occur
    DATA = "data"  #: bytes arrived (``data.bytes``)
    URGENT = "urgent"  #: urgent (OOB) bytes arrived (``data.bytes``)
    URGENT_INLINE = "urgent_inline"  #: urgent bytes arrived into the normal data (SO_OOBINLINE)
    CONNECTION_REQUEST = "connection_request"  #: a connection waits on a listener (``data.from``)
    CONNECTED = "connected"  #: a connect completed
    CONNECT_REFUSED = "connect_refused"  #: a connect failed
    CONNECTED_WRITABLE = "connected_writable"  #: writable because a connect completed
    ACCEPTED_WRITABLE = "accepted_writable"  #: writable because the socket was accepted
    SPACE_FREED = "space_freed"  #: send-buffer room after WSAEWOULDBLOCK
    FIN = "fin"  #: the peer closed gracefully
    FIN_DRAINED = "fin_drained"  #: a withheld FIN, dated when the unread data was read
    FIN_BOTH_SHUT = "fin_both_shut"  #: a withheld FIN, dated when the local side shut down too
    RST = "rst"  #: the peer reset the connection
    # record
    NOTIFIED = "notified"  #: recorded for the registration in effect (it selects the bit)
    SILENT_NO_REGISTRATION = "silent_no_registration"  #: recorded with no registration
    SILENT_NOT_IN_MASK = "silent_not_in_mask"  #: recorded outside the registration's mask
    RESURFACED = "resurfaced"  #: an unconsumed bit taken over by a new WSAEventSelect
    # signal
    SET = "set"  #: the event object was not signalled
    ALREADY_SET = "already_set"  #: it was signalled already
    # suppress
    LATCHED = "latched"  #: reported before and not re-enabled since
    NO_REGISTRATION = "no_registration"  #: dropped: no registration
    NOT_IN_MASK = "not_in_mask"  #: dropped: the registration does not select it
    WINDOW_DESTROYED = "window_destroyed"  #: the registration's window is gone
    EVENT_CLOSED = "event_closed"  #: the registration's event object is closed
    TAKEN_BY_PENDING_RECV = "taken_by_pending_recv"  #: a blocked recv took the data first
    # discard
    DISCARDED_BY_ASYNCSELECT = "discarded_by_asyncselect"
    CLEARED_BY_EVENTSELECT = "cleared_by_eventselect"
    CLEARED_BY_REENABLE = "cleared_by_reenable"  #: recv, accept or a failed send re-enabled it
    CLEARED_BY_SEND = "cleared_by_send"
    ACCEPTED_FRESH = "accepted_fresh"  #: an accepted socket starts with an empty record
    MESSAGE_DROPPED = "message_dropped"  #: a queued message's window was destroyed
    # deliver
    MESSAGE = "message"  #: a window message taken (GetMessage, PeekMessage)
    ENUMERATED = "enumerated"  #: a bit returned by WSAEnumNetworkEvents
    # register
    SELECT = "select"  #: WSAAsyncSelect or WSAEventSelect
    INHERITED = "inherited"  #: an accepted socket copies its listener's registration
    CLOSED_NONLAST = "closed_nonlast"  #: closing a descriptor that was not the last
    SOCKET_CLOSED = "socket_closed"  #: the last descriptor closed
    SHUTDOWN = "shutdown"  #: shutdown cancels it (a profile's choice)
    # block
    IN_CALL = "in_call"  #: a blocking call waits (``call``, ``descriptor``)
    GET_MESSAGE = "get_message"  #: a message loop waits in GetMessage
    WAIT_EVENTS = "wait_events"  #: an events loop waits on its event objects
    NO_EVENTS = "no_events"  #: an events loop with no event objects yet
    #: an events loop with more event objects than one wait takes (64): its wait failed
    TOO_MANY_EVENTS = "too_many_events"
    WAIT_SELECT = "wait_select"  #: a select loop waits for one of its sockets


#: The record's stored fields, in the order they are written.
STORED = (
    "seq",
    "t_us",
    "kind",
    "actor",
    "process",
    "descriptor",
    "socket",
    "event",
    "call",
    "args",
    "result",
    "error",
    "reason",
    "cause",
    "gen",
    "data",
)
#: Every field of a record as exported (JSON Lines, CSV, Chrome ``args``): the stored ones
#: and ``detail``, the human text made from them.
FIELDS = (*STORED, "detail")
#: One line per field, for documentation and ``--help``: what each holds.
FIELD_DOCS: dict[str, str] = {
    "seq": "position in the trace: 0, 1, 2, ...",
    "t_us": "simulated time in microseconds",
    "kind": "what the record is about (a Kind)",
    "actor": "who acted: a process (later a thread or library object), or the socket "
    "S1, S2, ... for what the network did",
    "process": "the process the record concerns: the caller, the one notified, the one waiting",
    "descriptor": "PROCESS.DESCRIPTOR the record is about (a message's wParam for a post)",
    "socket": "the underlying socket, S1, S2, ... in creation order",
    "event": "the FD_ event (FD_READ, ...)",
    "call": "the API call (call records; block records: the call waited in)",
    "args": "the call's arguments as the scenario spells them",
    "result": "the call's result",
    "error": "the call's error, or the error a notification carries (WSAECONNABORTED ...)",
    "reason": "why it happened (a Reason code)",
    "cause": "seq of the record that caused this one",
    "gen": "the registration generation a notification or registration belongs to",
    "data": "kind-specific facts: bytes, window, message, event_object, the registration's "
    "mask and target, the call a delivery was taken by, ...",
    "detail": "a human sentence made from the fields above (never parsed)",
}


def who(rec: TraceRecord) -> str:
    """The record's process, or the thread or library object of it that acted (``A/io``,
    ``A/gsock1``): a process with one thread and no named objects is always just ``A``."""
    proc, by = rec.process or "-", rec.actor
    if by is None or by == proc:  # the common case, decided first
        return proc
    return by if by.startswith(proc) and by[len(proc) : len(proc) + 1] == "/" else proc


class TraceRecord:
    """One happening. ``event`` is an FD_ name; ``descriptor`` is ``PROC.DESC``."""

    __slots__ = STORED

    seq: int
    t_us: int
    kind: Kind
    actor: str | None
    process: str | None
    descriptor: str | None
    socket: str | None
    event: str | None
    call: str | None
    args: dict[str, Any] | None
    result: Any
    error: str | None
    reason: Reason | None
    cause: int | None
    gen: int | None
    data: dict[str, Any] | None

    def __init__(
        self,
        seq: int,
        t_us: int,
        kind: Kind | str,
        actor: str | None = None,
        process: str | None = None,
        descriptor: str | None = None,
        socket: str | None = None,
        event: str | None = None,
        call: str | None = None,
        args: dict[str, Any] | None = None,
        result: Any = None,
        error: str | None = None,
        reason: Reason | str | None = None,
        cause: int | None = None,
        gen: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.seq = seq
        self.t_us = t_us
        self.kind = Kind(kind)
        self.actor = actor
        self.process = process
        self.descriptor = descriptor
        self.socket = socket
        self.event = event
        self.call = call
        self.args = args
        self.result = result
        self.error = error
        self.reason = None if reason is None else Reason(reason)
        self.cause = cause
        self.gen = gen
        self.data = data

    @property
    def detail(self) -> str:
        """The record in words, for people (made from the fields; never parse it)."""
        return detail(self)

    def to_dict(self) -> dict[str, Any]:
        """The stored fields as a plain dict, in STORED order (``detail`` is not stored:
        it is made from them)."""
        return {name: getattr(self, name) for name in STORED}

    def __repr__(self) -> str:
        return f"TraceRecord({self.to_dict()!r})"


# -- observers -----------------------------------------------------------------------------


class Observer(Protocol):
    """What the engine hands its records to: finished records in order, in batches taken
    between simulation steps (so no call record is still being filled in)."""

    def records(self, batch: list[TraceRecord]) -> None:
        """Take a batch of finished records (the list is the engine's: copy what you keep)."""


class TraceKeeper:
    """Keeps every record: the in-memory trace of ``sn.run``."""

    __slots__ = ("trace",)

    def __init__(self) -> None:
        self.trace: list[TraceRecord] = []

    def records(self, batch: list[TraceRecord]) -> None:
        self.trace.extend(batch)


class Counters:
    """Records per kind and notifications taken per (process, event): what a run did, in
    constant memory."""

    __slots__ = ("kinds", "taken")

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.taken: Counter[tuple[str, str]] = Counter()

    def records(self, batch: list[TraceRecord]) -> None:
        self.kinds.update(map(_kind, batch))  # one C loop over the batch
        deliver = Kind.DELIVER
        self.taken.update([(who(r), r.event or "-") for r in batch if r.kind is deliver])


_kind = attrgetter("kind")


# -- the human text ----------------------------------------------------------------

_OCCUR = {
    Reason.CONNECT_REFUSED: "connect refused",
    Reason.CONNECTED: "connected",
    Reason.CONNECTED_WRITABLE: "connected: writable",
    Reason.ACCEPTED_WRITABLE: "accepted: writable",
    Reason.SPACE_FREED: "send buffer has room again",
    Reason.FIN: "peer closed gracefully (FIN)",
    Reason.FIN_DRAINED: "peer closed gracefully (FIN), unread data now drained",
    Reason.FIN_BOTH_SHUT: "peer closed gracefully (FIN), now shut both ways",
    Reason.RST: "connection reset by peer (RST)",
}
_RECORD = {
    Reason.NOTIFIED: "recorded",
    Reason.SILENT_NO_REGISTRATION: "recorded silently (no registration)",
    Reason.SILENT_NOT_IN_MASK: "recorded silently (not in the mask)",
    Reason.RESURFACED: "resurfaced: recorded earlier, not yet enumerated",
}
_DISCARD = {
    Reason.DISCARDED_BY_ASYNCSELECT: "discarded by WSAAsyncSelect",
    Reason.CLEARED_BY_EVENTSELECT: "cleared by WSAEventSelect",
    Reason.CLEARED_BY_REENABLE: "cleared by the re-enabling call",
    Reason.CLEARED_BY_SEND: "cleared by a successful send",
    Reason.ACCEPTED_FRESH: "accepted socket starts with an empty record",
}
_WHY_REGISTER = {
    Reason.INHERITED: "inherited from the listener",
    Reason.SOCKET_CLOSED: "socket closed",
    Reason.SHUTDOWN: "cancelled by shutdown",
}


def _with_error(text: str, error: str | None) -> str:
    return f"{text} with {error}" if error else text


def _data(rec: TraceRecord) -> dict[str, Any]:
    return rec.data or {}


def mask_text(names: list[str]) -> str:
    """``FD_READ|FD_CLOSE``, or ``0`` for an empty mask."""
    return "|".join(names) or "0"


def _target(target: str, mask: list[str]) -> str:
    return f"{target} {mask_text(mask)}"


def detail(rec: TraceRecord) -> str:
    """The human sentence of a record (without time, actor or event framing)."""
    k, why, data = rec.kind, rec.reason, _data(rec)
    if k is Kind.CALL:
        return ""
    if k is Kind.OCCUR:
        if why is Reason.DATA:
            return f"{data['bytes']} bytes arrived"
        if why is Reason.URGENT:
            return f"{data['bytes']} urgent bytes arrived"
        if why is Reason.URGENT_INLINE:
            return f"{data['bytes']} urgent bytes arrived inline"
        if why is Reason.CONNECTION_REQUEST:
            return f"connection request from {data['from']}"
        return _OCCUR[why] if why is not None else ""
    if k is Kind.RECORD:
        return _with_error(_RECORD[why] if why is not None else "recorded", rec.error)
    if k is Kind.POST:
        return _with_error(f"to {data['window']} ({data['message']})", rec.error)
    if k is Kind.SIGNAL:
        name = data["event_object"]
        return f"{name} already set" if why is Reason.ALREADY_SET else f"{name} set"
    if k is Kind.DELIVER:
        if why is Reason.MESSAGE:
            return _with_error(f"message from {data['window']}", rec.error)
        return _with_error("enumerated", rec.error)
    if k is Kind.SUPPRESS:
        if why is Reason.LATCHED:
            return "latched: not re-enabled"
        if why is Reason.NO_REGISTRATION:
            return "dropped: no registration"
        if why is Reason.NOT_IN_MASK:
            return f"dropped: not in the mask ({mask_text(data['mask'])})"
        if why is Reason.WINDOW_DESTROYED:
            return "window destroyed"
        if why is Reason.TAKEN_BY_PENDING_RECV:
            return "taken by a pending recv"
        return f"{data['event_object']} is closed"
    if k is Kind.DISCARD:
        if why is Reason.MESSAGE_DROPPED:
            return f"message dropped: window {data['window']} destroyed"
        return _DISCARD[why] if why is not None else "discarded"
    if k is Kind.REGISTER:
        return _register(rec, data)
    if k is Kind.BLOCK:
        return f"waiting in {waiting_in(rec)}"
    if k is Kind.IPC:
        return f"protocol info {data['info']} from {data['from']} arrived"
    if k is Kind.FREE:
        return "socket released"
    return ""


def _register(rec: TraceRecord, data: dict[str, Any]) -> str:
    old = data.get("replaced")
    was = f"{_target(old['target'], old['mask'])} via {old['via']}" if old else ""
    if data.get("target") is None:
        text = f"registration {was} cancelled" if old else "no registration (mask 0)"
    else:
        text = _target(data["target"], data["mask"])
        if old:
            text += f" (replaces {was})"
    why = rec.reason
    if why is Reason.CLOSED_NONLAST:
        text += f": cancelled by closing {rec.descriptor}"
    elif why is not None and why in _WHY_REGISTER:
        text += f": {_WHY_REGISTER[why]}"
    return text


def waiting_in(rec: TraceRecord) -> str:
    """What a ``block`` record's process waits in: ``recv(A.s)``, ``GetMessage``, ..."""
    why = rec.reason
    if why is Reason.GET_MESSAGE:
        return "GetMessage"
    if why is Reason.NO_EVENTS:
        return "its event loop (no events yet)"
    if why is Reason.TOO_MANY_EVENTS:
        return "its event loop (more than 64 event objects to wait on)"
    data = _data(rec)
    if why is Reason.WAIT_SELECT:
        sets = "; ".join(
            f"{k}={','.join(data[k])}" for k in ("read", "write", "except") if data.get(k)
        )
        return f"select({sets})"
    if why is Reason.WAIT_EVENTS or "handles" in data:
        return f"{rec.call or 'WSAWaitForMultipleEvents'}({', '.join(data['handles'])})"
    oob = ", MSG_OOB" if data.get("oob") else ""
    return f"{rec.call}({rec.descriptor}{oob})" if rec.descriptor else f"{rec.call}()"
