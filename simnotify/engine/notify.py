"""raise / post / reenable / select / enumerate (semantics 3.3): the notification core.

This is the only module that changes a socket's registration, record or latch, and it
applies the profile's decision points about notifications. The calls apply the profile's
decision points about calls (which of them re-enable, cancel or fail) and ask it to act.

Every record it makes says why in its ``reason``; the facts a reader needs (window, event
object, mask, the registration replaced) are fields, so nothing has to read prose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..profiles import Profile
from ..trace import Kind, Reason
from ..winsock import BIT_NAMES, CLOSE, LEVEL, error_name
from .probe import Probe
from .sockets import Descriptor, Message, Registration, UnderlyingSocket
from .tracer import Tracer

if TYPE_CHECKING:
    from .objects import EventObject, Waker, Window
    from .processes import SimProcess

OCCUR, RECORD, POST, SIGNAL = Kind.OCCUR, Kind.RECORD, Kind.POST, Kind.SIGNAL
SUPPRESS, DISCARD, DELIVER, REGISTER = Kind.SUPPRESS, Kind.DISCARD, Kind.DELIVER, Kind.REGISTER
_NO_DATA: dict[str, Any] = {}


class Notifier:
    """Decides every notification; holds the profile and the registration counter."""

    __slots__ = ("_gen", "emit", "p", "probe", "tracer")

    def __init__(self, tracer: Tracer, profile: Profile, probe: Probe | None = None) -> None:
        self.tracer = tracer
        self.p = profile
        self.emit = tracer.emit
        self._gen = 0
        self.probe = probe

    # -- occurrences and notifications ------------------------------------------

    def occur(
        self,
        s: UnderlyingSocket,
        bit: int,
        reason: Reason,
        cause: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        """Trace a network fact that makes ``bit``'s condition true or adds to it."""
        return self.emit(OCCUR, None, None, s.id, BIT_NAMES[bit], reason, cause, None, data).seq

    def raise_(self, s: UnderlyingSocket, bit: int, err: int, cause: int | None) -> None:
        """The only producer of notifications."""
        latched = s.latch & bit
        made: int | None = None  # seq of the notification, if one was made
        if latched:
            self.emit(SUPPRESS, None, None, s.id, BIT_NAMES[bit], Reason.LATCHED, cause)
        else:
            reg = s.reg
            if reg is not None and reg.mask & bit:
                s.latch |= bit
                if reg.window is None:
                    made = self._record(s, bit, err, reg, cause, Reason.NOTIFIED)
                    assert reg.event is not None
                    self.set_event(reg.event, s, bit, made)
                else:
                    made = self._post(reg, s, bit, err, cause)
            elif self.p.records_outside_mask and (reg is None or reg.window is None):
                s.latch |= bit
                why = Reason.SILENT_NO_REGISTRATION if reg is None else Reason.SILENT_NOT_IN_MASK
                made = self._record(s, bit, err, None, cause, why)
            elif reg is None:
                self.emit(SUPPRESS, None, None, s.id, BIT_NAMES[bit], Reason.NO_REGISTRATION, cause)
            else:
                self.emit(
                    SUPPRESS, None, None, s.id, BIT_NAMES[bit], Reason.NOT_IN_MASK, cause,
                    None, reg.mask_data,
                )  # fmt: skip
        if self.probe is not None:
            self.probe.raised(s, bit, bool(latched), made)

    def _record(
        self,
        s: UnderlyingSocket,
        bit: int,
        err: int,
        reg: Registration | None,
        cause: int | None,
        reason: Reason,
    ) -> int:
        s.record |= bit
        s.err[bit] = err
        gen = reg.gen if reg is not None else None
        s.rgen[bit] = gen
        owner = reg.owner.name if reg is not None else None
        via = reg.via.label if reg is not None else None
        error = error_name(err) if err else None
        seq = self.emit(
            RECORD, owner, via, s.id, BIT_NAMES[bit], reason, cause, gen, None, error
        ).seq
        s.rseq[bit] = seq
        return seq

    def _post(
        self, reg: Registration, s: UnderlyingSocket, bit: int, err: int, cause: int | None
    ) -> int | None:
        window = reg.window
        assert window is not None
        owner = reg.owner
        name = BIT_NAMES[bit]
        if window.destroyed:
            self.emit(
                SUPPRESS, owner.name, reg.via.label, s.id, name, Reason.WINDOW_DESTROYED, cause,
                None, reg.post_data,
            )  # fmt: skip
            return None
        error = error_name(err) if err else None
        seq = self.emit(
            POST, owner.name, reg.via.label, s.id, name, None, cause, reg.gen, reg.post_data, error
        ).seq
        queue = window.owner  # the thread that made the window (the registrant, unthreaded)
        queue.messages.append(Message(window, reg.via, s, bit, err, reg.gen, seq))
        queue.poke()
        return seq

    def set_event(self, ev: EventObject, s: UnderlyingSocket | None, bit: int, cause: int) -> None:
        """Signal a manual-reset event object and wake its owner."""
        owner = ev.owner.name
        sid = s.id if s is not None else None
        name = BIT_NAMES[bit]
        if ev.closed:
            self.emit(
                SUPPRESS, owner, None, sid, name, Reason.EVENT_CLOSED, cause, None, ev.signal_data
            )
            return
        why = Reason.ALREADY_SET if ev.signalled else Reason.SET
        self.emit(SIGNAL, owner, None, sid, name, why, cause, None, ev.signal_data)
        if not ev.signalled:
            ev.signalled = True
            ev.owner.wake_event()

    def resignal(self, s: UnderlyingSocket, cause: int) -> None:
        """Signal the event of ``s``'s registration again if its record holds a selected
        bit: what polling does under ``polling_signals_recorded_events`` (W29 on Wine)."""
        reg = s.reg
        bits = s.record & reg.mask if reg is not None and reg.event is not None else 0
        if bits:
            assert reg is not None and reg.event is not None
            bit = next(b for b in self.p.post_order if bits & b)
            self.set_event(reg.event, s, bit, cause)

    def discard(self, s: UnderlyingSocket, bits: int, cause: int | None, why: Reason) -> None:
        """Remove recorded bits that nobody enumerated (one trace record per bit)."""
        bits &= s.record
        if not bits:
            return
        s.record &= ~bits
        for bit in self.p.post_order:
            if bits & bit:
                self.emit(DISCARD, None, None, s.id, BIT_NAMES[bit], why, cause, s.rgen.get(bit))

    def reenable(self, s: UnderlyingSocket, bit: int, cause: int) -> None:
        """A re-enabling call: lift the latch; level events re-raise (R32-R36, R57)."""
        s.latch &= ~bit
        if self.p.reenable_clears_recorded_bit and s.record & bit:
            self.discard(s, bit, cause, Reason.CLEARED_BY_REENABLE)
        if bit & LEVEL and s.cond(bit):
            self.raise_(s, bit, 0, cause)

    # -- registration -----------------------------------------------------------

    def select(
        self,
        proc: SimProcess,
        d: Descriptor,
        mask: int,
        cause: int,
        window: Window | None = None,
        message: str = "",
        event: EventObject | None = None,
    ) -> None:
        """WSAAsyncSelect (``window`` given) or WSAEventSelect: replace the one slot."""
        s = d.sock
        p = self.p
        is_msg = window is not None
        s.nonblocking = True  # R24, also for mask 0
        if is_msg and p.asyncselect_discards_record:
            self.discard(s, s.record, cause, Reason.DISCARDED_BY_ASYNCSELECT)
        elif not is_msg and p.eventselect_clears_record:
            self.discard(s, s.record, cause, Reason.CLEARED_BY_EVENTSELECT)
        if p.select_clears_latch and (is_msg or p.eventselect_clears_latch):
            s.latch = 0
        old = s.reg
        reg: Registration | None = None
        if mask:
            self._gen += 1
            reg = Registration(mask, proc, d, self._gen, window, message, event)
            reg.seq = cause
            actor = self.tracer.actor  # the thread or library object that registers
            if actor is not None:
                reg.actor = actor
        s.reg = reg
        self._trace_register(proc, d, s, reg, old, cause, Reason.SELECT)
        if event is not None and p.select_resets_event_object:
            event.signalled = False
        if reg is None:
            return
        if event is not None and s.record & mask:
            # unconsumed bits surface for the new registration (W3, W9, W10)
            for bit in p.post_order:
                if s.record & mask & bit:
                    s.rgen[bit] = reg.gen
                    s.rseq[bit] = self.emit(
                        RECORD, proc.name, d.label, s.id, BIT_NAMES[bit], Reason.RESURFACED,
                        cause, reg.gen, None, error_name(s.err[bit]) if s.err.get(bit) else None,
                    ).seq  # fmt: skip
                    last = bit
            self.set_event(event, s, last, cause)
        recheck = p.recheck_bits(is_msg) & mask
        if recheck:
            if s.rst and not p.recheck_reports_close_after_reset:
                recheck &= ~CLOSE
            for bit in p.post_order:
                if recheck & bit and s.cond(bit):
                    self.raise_(s, bit, s.cond_err(bit), cause)

    def connection_outcome(self, s: UnderlyingSocket, bits: int) -> None:
        """A connect attempt ended: its outcome is reported afresh, whatever came before (R43)."""
        s.latch &= ~bits

    def forget(self, s: UnderlyingSocket) -> None:
        """The socket is gone with no descriptor left to trace a cancel through."""
        s.reg = None

    def cancel(self, s: UnderlyingSocket, d: Descriptor, cause: int, why: Reason) -> None:
        """Drop the registration without a select call (closesocket, shutdown knob)."""
        old = s.reg
        if old is None:
            return
        s.reg = None
        self._trace_register(d.process, d, s, None, old, cause, why)

    def inherit(
        self,
        proc: SimProcess,
        listener: UnderlyingSocket,
        n: UnderlyingSocket,
        dn: Descriptor,
        cause: int,
    ) -> None:
        """An accepted socket starts fresh and copies the listener's registration (R28; W6)."""
        for bit in self.p.post_order:
            if n.record & bit:
                self.discard(n, bit, cause, Reason.ACCEPTED_FRESH)
        n.latch = 0
        reg = listener.reg
        if reg is None or not self.p.accepted_socket_inherits_registration:
            return
        self._gen += 1
        new = Registration(reg.mask, reg.owner, dn, self._gen, reg.window, reg.message, reg.event)
        new.seq = cause
        new.actor = reg.actor
        n.reg = new
        self._trace_register(proc, dn, n, new, None, cause, Reason.INHERITED)

    def _trace_register(
        self,
        proc: Waker,
        d: Descriptor,
        s: UnderlyingSocket,
        reg: Registration | None,
        old: Registration | None,
        cause: int,
        why: Reason,
    ) -> None:
        data: dict[str, Any] = {
            "mask": reg.mask_data["mask"] if reg is not None else [],
            "mechanism": None if reg is None else ("MSG" if reg.is_message else "EVT"),
            "target": None if reg is None else reg.target,
            "owner": None if reg is None else reg.actor,
            "replaced": None
            if old is None
            else {
                "gen": old.gen,
                "owner": old.actor,
                "target": old.target,
                "mask": old.mask_data["mask"],
                "via": old.via.label,
            },
            # conditions holding now: the oracle's test for a carried occurrence (6.1)
            "holds": [BIT_NAMES[b] for b in self.p.post_order if s.cond(b)],
        }
        gen = reg.gen if reg is not None else None
        self.emit(REGISTER, proc.name, d.label, s.id, None, why, cause, gen, data)

    # -- consumption ------------------------------------------------------------

    def enumerate(
        self, proc: SimProcess, d: Descriptor, ev: EventObject | None, cause: int
    ) -> list[tuple[int, int]]:
        """WSAEnumNetworkEvents: copy, clear and reset atomically (R71-R73; W18)."""
        s = d.sock
        probe = self.probe
        if probe is not None:
            before = (s.record, s.reg.mask if s.reg is not None else 0, dict(s.err))
        if ev is not None:
            ev.signalled = False
        out: list[tuple[int, int]] = []
        scope = s.record
        if scope and self.p.enum_clears_only_masked_bits:
            scope &= s.reg.mask if s.reg is not None else 0
        if scope:  # most enumerates of an events loop find nothing
            s.record &= ~scope
            data = {"event_object": ev.name if ev is not None else None, "call": cause}
            for bit in self.p.post_order:
                if scope & bit:
                    err = s.err.get(bit, 0)
                    out.append((bit, err))
                    self.emit(
                        DELIVER, proc.name, d.label, s.id, BIT_NAMES[bit], Reason.ENUMERATED,
                        s.rseq.get(bit, cause), s.rgen.get(bit), data,
                        error_name(err) if err else None,
                    )  # fmt: skip
        if probe is not None:
            probe.enumerated(d, ev, *before, out)
        return out

    def take_message(self, proc: SimProcess, msg: Message, cause: int | None) -> None:
        """Trace the delivery of a message taken by GetMessage/PeekMessage."""
        data = msg.window.data if cause is None else {"window": msg.window.name, "call": cause}
        self.emit(
            DELIVER, proc.name, msg.wparam.label, msg.sock.id, BIT_NAMES[msg.bit], Reason.MESSAGE,
            msg.seq, msg.gen, data, error_name(msg.err) if msg.err else None,
        )  # fmt: skip
