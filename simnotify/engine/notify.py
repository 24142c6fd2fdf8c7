"""raise / post / reenable / select / enumerate (semantics 3.3): the notification core.

This is the only module that changes a socket's registration, record or latch, and it
applies the profile's decision points about notifications. The calls apply the profile's
decision points about calls (which of them re-enable, cancel or fail) and ask it to act.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..profiles import Profile
from ..winsock import BIT_NAMES, CLOSE, LEVEL, error_name, mask_names, mask_text
from .sockets import Descriptor, Registration, UnderlyingSocket

if TYPE_CHECKING:
    from .processes import EventObject, SimProcess, Window
    from .world import World


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


class Notifier:
    """Decides every notification; holds the profile and the registration counter."""

    __slots__ = ("_gen", "emit", "p", "world")

    def __init__(self, world: World, profile: Profile) -> None:
        self.world = world
        self.p = profile
        self.emit = world.emit
        self._gen = 0

    # -- occurrences and notifications ------------------------------------------

    def occur(self, s: UnderlyingSocket, bit: int, detail: str, cause: int | None = None) -> int:
        """Trace a network fact that makes ``bit``'s condition true or adds to it."""
        return self.emit("occur", None, None, s.id, BIT_NAMES[bit], cause, detail)

    def raise_(self, s: UnderlyingSocket, bit: int, err: int, cause: int | None) -> None:
        """The only producer of notifications."""
        if s.latch & bit:
            self.emit(
                "suppress", None, None, s.id, BIT_NAMES[bit], cause, "latched: not re-enabled"
            )
            return
        reg = s.reg
        if reg is not None and reg.mask & bit:
            s.latch |= bit
            if reg.window is None:
                seq = self._record(s, bit, err, reg, cause, "recorded")
                assert reg.event is not None
                self.set_event(reg.event, s, bit, seq)
            else:
                self._post(reg, s, bit, err, cause)
        elif self.p.records_outside_mask and (reg is None or reg.window is None):
            s.latch |= bit
            why = "no registration" if reg is None else "not in the mask"
            self._record(s, bit, err, None, cause, f"recorded silently ({why})")
        else:
            why = "no registration" if reg is None else f"not in the mask ({mask_text(reg.mask)})"
            self.emit("suppress", None, None, s.id, BIT_NAMES[bit], cause, f"dropped: {why}")

    def _record(
        self,
        s: UnderlyingSocket,
        bit: int,
        err: int,
        reg: Registration | None,
        cause: int | None,
        detail: str,
    ) -> int:
        s.record |= bit
        s.err[bit] = err
        gen = reg.gen if reg is not None else None
        s.rgen[bit] = gen
        if err:
            detail = f"{detail} with {error_name(err)}"
        owner = reg.owner.name if reg is not None else None
        via = reg.via.label if reg is not None else None
        seq = self.emit("record", owner, via, s.id, BIT_NAMES[bit], cause, detail, gen)
        s.rseq[bit] = seq
        return seq

    def _post(
        self, reg: Registration, s: UnderlyingSocket, bit: int, err: int, cause: int | None
    ) -> None:
        window = reg.window
        assert window is not None
        owner = reg.owner
        name = BIT_NAMES[bit]
        if window.destroyed:
            self.emit("suppress", owner.name, reg.via.label, s.id, name, cause, "window destroyed")
            return
        detail = reg.post_text
        if err:
            detail += f" with {error_name(err)}"
        seq = self.emit("post", owner.name, reg.via.label, s.id, name, cause, detail, reg.gen)
        owner.messages.append(Message(window, reg.via, s, bit, err, reg.gen, seq))
        owner.poke()

    def set_event(self, ev: EventObject, s: UnderlyingSocket | None, bit: int, cause: int) -> None:
        """Signal a manual-reset event object and wake its owner."""
        owner = ev.owner.name
        sid = s.id if s is not None else None
        if ev.closed:
            self.emit("suppress", owner, None, sid, BIT_NAMES[bit], cause, f"{ev.name} is closed")
            return
        detail = f"{ev.name} already set" if ev.signalled else f"{ev.name} set"
        self.emit("signal", owner, None, sid, BIT_NAMES[bit], cause, detail)
        if not ev.signalled:
            ev.signalled = True
            ev.owner.poke()

    def discard(self, s: UnderlyingSocket, bits: int, cause: int | None, why: str) -> None:
        """Remove recorded bits that nobody enumerated (one trace record per bit)."""
        bits &= s.record
        if not bits:
            return
        s.record &= ~bits
        for bit in self.p.post_order:
            if bits & bit:
                self.emit("discard", None, None, s.id, BIT_NAMES[bit], cause, why, s.rgen.get(bit))

    def reenable(self, s: UnderlyingSocket, bit: int, cause: int) -> None:
        """A re-enabling call: lift the latch; level events re-raise (R32-R36, R57)."""
        s.latch &= ~bit
        if self.p.reenable_clears_recorded_bit and s.record & bit:
            self.discard(s, bit, cause, "cleared by the re-enabling call")
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
            self.discard(s, s.record, cause, "discarded by WSAAsyncSelect")
        elif not is_msg and p.eventselect_clears_record:
            self.discard(s, s.record, cause, "cleared by WSAEventSelect")
        if p.select_clears_latch and (is_msg or p.eventselect_clears_latch):
            s.latch = 0
        old = s.reg
        reg: Registration | None = None
        if mask:
            self._gen += 1
            reg = Registration(mask, proc, d, self._gen, window, message, event)
            reg.seq = cause
        s.reg = reg
        self._trace_register(proc, d, s, reg, old, cause, "")
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
                        "record",
                        proc.name,
                        d.label,
                        s.id,
                        BIT_NAMES[bit],
                        cause,
                        "resurfaced: recorded earlier, not yet enumerated",
                        reg.gen,
                    )
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

    def cancel(self, s: UnderlyingSocket, d: Descriptor, cause: int, why: str) -> None:
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
                self.discard(n, bit, cause, "accepted socket starts with an empty record")
        n.latch = 0
        reg = listener.reg
        if reg is None or not self.p.accepted_socket_inherits_registration:
            return
        self._gen += 1
        new = Registration(reg.mask, reg.owner, dn, self._gen, reg.window, reg.message, reg.event)
        new.seq = cause
        n.reg = new
        self._trace_register(proc, dn, n, new, None, cause, "inherited from the listener")

    def _trace_register(
        self,
        proc: SimProcess,
        d: Descriptor,
        s: UnderlyingSocket,
        reg: Registration | None,
        old: Registration | None,
        cause: int,
        why: str,
    ) -> None:
        data: dict[str, object] = {
            "mask": mask_names(reg.mask) if reg is not None else [],
            "mechanism": None if reg is None else ("MSG" if reg.is_message else "EVT"),
            "target": None if reg is None else reg.describe(),
            "owner": None if reg is None else reg.owner.name,
            "replaced_gen": old.gen if old is not None else None,
            "replaced_owner": old.owner.name if old is not None else None,
            # conditions holding now: the oracle's test for a carried occurrence (6.1)
            "holds": [BIT_NAMES[b] for b in self.p.post_order if s.cond(b)],
        }
        was = f"{old.describe()} {mask_text(old.mask)} via {old.via.label}" if old else ""
        if reg is None:
            text = f"registration {was} cancelled" if old else "no registration (mask 0)"
        else:
            text = f"{reg.describe()} {mask_text(reg.mask)}"
            if old is not None:
                text += f" (replaces {was})"
        if why:
            text += f": {why}"
        gen = reg.gen if reg is not None else None
        self.emit("register", proc.name, d.label, s.id, None, cause, text, gen, data)

    # -- consumption ------------------------------------------------------------

    def enumerate(
        self, proc: SimProcess, d: Descriptor, ev: EventObject | None, cause: int
    ) -> list[tuple[int, int]]:
        """WSAEnumNetworkEvents: copy, clear and reset atomically (R71-R73; W18)."""
        s = d.sock
        if ev is not None:
            ev.signalled = False
        out: list[tuple[int, int]] = []
        scope = s.record
        if not scope:  # most enumerates of an events loop find nothing
            return out
        if self.p.enum_clears_only_masked_bits:
            scope &= s.reg.mask if s.reg is not None else 0
        s.record &= ~scope
        for bit in self.p.post_order:
            if scope & bit:
                err = s.err.get(bit, 0)
                out.append((bit, err))
                self.emit(
                    "deliver",
                    proc.name,
                    d.label,
                    s.id,
                    BIT_NAMES[bit],
                    s.rseq.get(bit, cause),
                    "enumerated" + (f" with {error_name(err)}" if err else ""),
                    s.rgen.get(bit),
                    {"via": "enumerate", "call": cause},
                )
        return out

    def take_message(self, proc: SimProcess, msg: Message, cause: int | None) -> None:
        """Trace the delivery of a message taken by GetMessage/PeekMessage."""
        self.emit(
            "deliver",
            proc.name,
            msg.wparam.label,
            msg.sock.id,
            BIT_NAMES[msg.bit],
            msg.seq,
            f"message from {msg.window.name}" + (f" with {error_name(msg.err)}" if msg.err else ""),
            msg.gen,
            {"via": "message", "call": cause},
        )
