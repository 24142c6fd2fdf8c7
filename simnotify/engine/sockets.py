"""Underlying sockets, descriptors, registrations and protocol infos (semantics 3.1).

State lives in plain slotted objects; the only code that changes notification state
(registration, record, latch) is ``notify.py``.
"""

from __future__ import annotations

from collections import deque
from enum import IntEnum

from ..winsock import ACCEPT, BIT_NAMES, CLOSE, CONNECT, OOB, READ, WRITE, error_name, mask_names
from .objects import EventObject, Waker, Window


class State(IntEnum):
    """Connection state of an underlying socket."""

    NEW = 0
    LISTENING = 1
    CONNECTING = 2
    CONNECTED = 3
    CONNECT_FAILED = 4


class Registration:
    """The socket's single notification slot: who asked, how, for which bits."""

    __slots__ = (
        "actor",
        "event",
        "gen",
        "mask",
        "mask_data",
        "message",
        "owner",
        "post_data",
        "seq",
        "target",
        "via",
        "window",
    )

    def __init__(
        self,
        mask: int,
        owner: Waker,
        via: Descriptor,
        gen: int,
        window: Window | None = None,
        message: str = "",
        event: EventObject | None = None,
    ) -> None:
        self.mask = mask
        self.owner = owner
        self.via = via
        self.gen = gen
        self.window = window
        self.message = message
        self.event = event
        self.seq = -1  # trace seq of the call that installed it
        #: who registered: the process, or its thread or library object (``A/io``)
        self.actor = owner.name
        # facts its records carry, made once rather than per record
        if window is not None:
            self.target = f"MSG {owner.name}.{window.name}/{message}"
            self.post_data: dict[str, str] = {"window": window.name, "message": message}
        else:
            assert event is not None
            self.target = f"EVT {owner.name}.{event.name}"
            self.post_data = {}
        self.mask_data = {"mask": mask_names(mask)}

    @property
    def is_message(self) -> bool:
        """True for WSAAsyncSelect (MSG), False for WSAEventSelect (EVT)."""
        return self.window is not None


class UnderlyingSocket:
    """One socket object shared by all its descriptors (semantics 2)."""

    __slots__ = (
        "aborted",
        "accq",
        "backlog",
        "close_deferred",
        "close_err",
        "closed",
        "connect_err",
        "err",
        "fin",
        "fin_pending",
        "fin_sent",
        "id",
        "inflight",
        "last_arrival",
        "latch",
        "linger",
        "nonblocking",
        "oob",
        "oobinline",
        "peer",
        "rcvbuf",
        "record",
        "refs",
        "reg",
        "rgen",
        "rseq",
        "rst",
        "rx",
        "shut_recv",
        "shut_send",
        "sndbuf",
        "sndq",
        "so_error",
        "state",
        "update_pending",
        "waiters",
        "write_blocked",
    )

    def __init__(self, sid: str, sndbuf: int, rcvbuf: int) -> None:
        self.id = sid
        self.sndbuf = sndbuf
        self.rcvbuf = rcvbuf
        self.state = State.NEW
        self.rx = 0  # normal bytes queued for recv
        self.oob = 0  # urgent bytes queued (SO_OOBINLINE off)
        self.accq: deque[UnderlyingSocket] = deque()  # established, not yet accepted
        self.backlog = 0
        self.sndq = 0  # bytes accepted by send, not yet on the wire
        self.inflight = 0  # bytes on the wire toward the peer
        self.last_arrival = 0  # arrival time of the latest segment sent (keeps FIFO)
        self.update_pending = False  # a window update toward this sender is scheduled
        self.write_blocked = False
        self.fin = False  # peer FIN seen
        self.rst = False  # peer RST seen
        self.aborted = False  # reset locally (shutdown SD_RECEIVE with data)
        self.fin_pending = False  # local FIN to send once sndq drains
        self.fin_sent = False
        self.close_err = 0
        self.close_deferred = False
        self.shut_send = False
        self.shut_recv = False
        self.connect_err = 0
        self.so_error = 0  # SO_ERROR: a failed connect's error until read or reconnected
        self.oobinline = 0
        self.linger: tuple[int, int] = (0, 0)
        self.nonblocking = False
        self.peer: UnderlyingSocket | None = None
        self.reg: Registration | None = None
        self.record = 0
        self.err: dict[int, int] = {}
        self.rgen: dict[int, int | None] = {}  # gen that recorded each bit (None: silent)
        self.rseq: dict[int, int] = {}  # trace seq of the record of each bit
        self.latch = 0
        self.refs = 0
        self.closed = False  # last reference gone: no descriptor can reach it
        self.waiters: list[Waker] = []

    # -- conditions (semantics 3.2) ------------------------------------------------

    def cond(self, bit: int) -> bool:
        """Whether ``bit``'s condition holds now."""
        if bit == READ:
            return self.rx > 0
        if bit == OOB:
            return self.oob > 0
        if bit == ACCEPT:
            return self.state == State.LISTENING and bool(self.accq)
        if bit == WRITE:
            return (
                self.state == State.CONNECTED
                and not self.write_blocked
                and not self.shut_send
                and not self.rst
                and not self.aborted
                and self.snd_free > 0
            )
        if bit == CONNECT:
            return self.state == State.CONNECTED
        if bit == CLOSE:
            return self.rst or (self.fin and not self.close_deferred)
        return False

    def cond_err(self, bit: int) -> int:
        """The error a re-check reports with ``bit``: the stored close error for CLOSE."""
        return self.close_err if bit == CLOSE else 0

    @property
    def snd_free(self) -> int:
        """Free send-buffer bytes (0 when an accepted send over-filled the buffer)."""
        return self.sndbuf - self.sndq if self.sndq < self.sndbuf else 0


class Descriptor:
    """A per-process handle to an underlying socket (``PROC.DESC``)."""

    __slots__ = ("label", "name", "open", "process", "sock")

    def __init__(self, name: str, process: Waker, sock: UnderlyingSocket) -> None:
        self.name = name
        self.process = process
        self.sock = sock
        self.open = True
        self.label = f"{process.name}.{name}"


class ProtocolInfo:
    """A WSADuplicateSocket result bound to one target process; usable once (R1, R2)."""

    __slots__ = (
        "arrived",
        "as_name",
        "holds_ref",
        "name",
        "seq",
        "sock",
        "source",
        "target",
        "used",
    )

    def __init__(
        self, name: str, sock: UnderlyingSocket, source: str, target: str, holds_ref: bool
    ) -> None:
        self.name = name
        self.as_name = name
        self.sock = sock
        self.source = source
        self.target = target
        self.holds_ref = holds_ref
        self.arrived = False
        self.used = False
        self.seq = -1


class SocketTable:
    """Every underlying socket of a run, named S1, S2, ... in creation order."""

    __slots__ = ("recv_buffer", "send_buffer", "sockets")

    def __init__(self, send_buffer: int, recv_buffer: int) -> None:
        self.send_buffer = send_buffer
        self.recv_buffer = recv_buffer
        self.sockets: list[UnderlyingSocket] = []

    def new(self) -> UnderlyingSocket:
        """A fresh underlying socket."""
        s = UnderlyingSocket(f"S{len(self.sockets) + 1}", self.send_buffer, self.recv_buffer)
        self.sockets.append(s)
        return s

    @staticmethod
    def wake(s: UnderlyingSocket) -> None:
        """Poke every process blocked on ``s``; each re-checks its call."""
        waiters = s.waiters
        if waiters:
            s.waiters = []
            for proc in waiters:
                proc.poke()


class Totals:
    """Bytes the run's sends accepted, its recvs returned, and the network dropped."""

    __slots__ = ("dropped", "received", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.received = 0
        self.dropped = 0


class Message:
    """A posted window message: one FD_ bit, never OR'ed (R64, R65)."""

    __slots__ = ("bit", "err", "gen", "seq", "sock", "window", "wparam")

    def __init__(
        self,
        window: Window,
        wparam: Descriptor,
        sock: UnderlyingSocket,
        bit: int,
        err: int,
        gen: int,
        seq: int,
    ) -> None:
        self.window = window
        self.wparam = wparam
        self.sock = sock
        self.bit = bit
        self.err = err
        self.gen = gen
        self.seq = seq

    def text(self) -> str:
        """``FD_CLOSE:WSAECONNABORTED`` (or ``FD_READ`` when the error is 0)."""
        name = BIT_NAMES[self.bit]
        return f"{name}:{error_name(self.err)}" if self.err else name
