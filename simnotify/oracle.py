"""The lost-event oracle (semantics 6), online: an observer that judges records as they
arrive and finishes its verdicts when the run ends.

Per occurrence and interested actor it decides whether the occurrence was delivered
(by a notification or the actor's own I/O), lost (and why), or withdrawn; per consumption
whether it was stale or spurious; per actor whether it hangs. An actor is who a record
says acted (its ``actor``): a process with one thread, or a thread (``A/io``) or library
object (``A/gsock1``) of a process, so a notification another actor of the same process
took is lost for the one that wanted it. It keeps what is still
undecided and the little history a lost verdict's cause needs, so its memory follows the
run's open questions, not its length. Nothing here reads a record's human text.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from operator import itemgetter
from typing import Any

from .describe import call_text
from .trace import Kind, Reason, TraceRecord
from .units import format_time
from .verdicts import Verdict
from .winsock import EVENT_NAMES

RESET_ERRORS = ("WSAECONNRESET", "WSAECONNABORTED")
#: connect errors that say nothing of the outcome; WSAEISCONN is not one of them: "WSAEISCONN
#: may be returned when the connection completes successfully" (the connect page)
SILENT_CONNECT_ERRORS = ("WSAEWOULDBLOCK", "WSAEALREADY", "WSAENOTSOCK", "WSAEINVAL")
#: The calls whose outcome can show their caller an FD_ event (the rest never do).
DISCOVERING = frozenset(("recv", "accept", "send", "connect"))
#: Calls whose result shows conditions on several sockets: their records list them as
#: ``shows`` pairs (socket, FD_ name), each a discovery (6.1)
READINESS = frozenset(("select", "WSAPoll"))
#: Why a condition that holds is not reported again (a stall's report-once cause).
REPORT_ONCE = {
    "FD_READ": "FD_READ is raised again only by a re-enabling recv",
    "FD_OOB": "FD_OOB is raised again only by a re-enabling recv",
    "FD_ACCEPT": "FD_ACCEPT is raised again only by a re-enabling accept",
    "FD_WRITE": "FD_WRITE comes when the connection is made, then only after WSAEWOULDBLOCK",
    "FD_CONNECT": "FD_CONNECT is reported once per connect",
    "FD_CLOSE": "FD_CLOSE is reported once per connection",
}
#: The re-check after a delivery whose WSAEWOULDBLOCK makes that delivery spurious.
RECHECK = {"FD_READ": "recv", "FD_OOB": "recv", "FD_ACCEPT": "accept", "FD_WRITE": "send"}
SELECTS = ("WSAAsyncSelect", "WSAEventSelect")
ENUMERATE = "WSAEnumNetworkEvents"
_READ, _WRITE = ("FD_READ",), ("FD_WRITE",)
NO_REG = (Reason.NO_REGISTRATION, Reason.NOT_IN_MASK)

#: The order of the verdicts kept as (order, order, verdict): by the first two.
_BY_OCCURRENCE = itemgetter(0, 1)

CALL, OCCUR, RECORD, POST, BLOCK = Kind.CALL, Kind.OCCUR, Kind.RECORD, Kind.POST, Kind.BLOCK
DELIVER, DISCARD, SUPPRESS, REGISTER = Kind.DELIVER, Kind.DISCARD, Kind.SUPPRESS, Kind.REGISTER


def discovered(rec: TraceRecord) -> list[str]:
    """FD_ events a successful (or telling) call proves to its caller (6.1 discovery)."""
    call, res, err = rec.call, rec.result, rec.error
    if call == "recv":
        if err in RESET_ERRORS:
            return ["FD_CLOSE"]
        if err is not None:
            return []  # a peek counts: it shows the caller the data or the end of stream
        found = []
        if isinstance(res, int) and res > 0:
            found.append("FD_OOB" if (rec.args or {}).get("oob") else "FD_READ")
        if res == 0 or (rec.data and rec.data.get("eof")):
            found.append("FD_CLOSE")
        return found
    if call == "accept" and err is None:
        return ["FD_ACCEPT"]
    if call == "send" and err is None:
        return ["FD_WRITE"]
    if call == "connect" and err not in SILENT_CONNECT_ERRORS:
        return ["FD_CONNECT"]
    return []


class _Reg:
    """A registration record, as cause 2 of a lost verdict needs it."""

    __slots__ = ("call", "caller", "gen", "owner")

    def __init__(
        self, gen: int | None, owner: str | None, caller: str | None, call: TraceRecord | None
    ) -> None:
        self.gen = gen
        self.owner = owner
        self.caller = caller
        self.call = call  # the record that caused it (the select, close, accept ...)


class _Taker:
    """Who took a notification: the facts of the deliver record a lost verdict names."""

    __slots__ = ("actor", "reason", "seq", "t_us")

    def __init__(self, rec: TraceRecord) -> None:
        self.seq = rec.seq
        self.t_us = rec.t_us
        self.actor = rec.actor
        self.reason = rec.reason


# _Note and _Occ copy the few facts they need from their record instead of keeping it: a
# record the oracle kept would be freed long after it was made, out of the processor's
# cache, where freeing it costs several times more than in its batch.


class _Note:
    """A notification (record or post) and who took it."""

    __slots__ = ("consumer", "descriptor", "gen", "kind", "process", "seq", "t_us")

    def __init__(self, rec: TraceRecord) -> None:
        self.seq = rec.seq
        self.t_us = rec.t_us
        self.kind = rec.kind
        self.gen = rec.gen
        self.process = rec.process
        self.descriptor = rec.descriptor
        self.consumer: _Taker | None = None


class _Occ:
    """An occurrence someone may judge: where it stood when it happened."""

    __slots__ = (
        "event",
        "ios",
        "next_note",
        "prev_note",
        "reg",
        "sat",
        "seq",
        "socket",
        "suppress",
        "t_us",
    )

    def __init__(self, rec: TraceRecord, reg: _Reg | None, prev: _Note | None) -> None:
        self.seq = rec.seq
        self.t_us = rec.t_us
        self.socket = rec.socket
        self.event = rec.event
        self.reg = reg  # the registration in effect when it happened
        self.prev_note = prev  # the latest notification of (S, b) before it
        self.next_note: _Note | None = None  # the first one at or after it
        self.suppress: Reason | None = None  # why it notified nobody, if it did not
        #: the first I/O discoveries of (S, b) after it: (seq, process, call, t), two processes
        self.ios: tuple[tuple[int, str, str, int], ...] | None = None
        #: while it is the latest of (S, b): who took or found (S, b) since (no carrying
        #: then); a tuple, since it is rarely more than one and made per occurrence
        self.sat: tuple[str, ...] | None = None


class _Watch:
    """One process's interest in one (socket, event): what it still waits to learn."""

    __slots__ = ("cand_end", "candidate", "judged", "open", "pending", "told")

    def __init__(self) -> None:
        self.open = False
        self.told = -1  # seq of its latest delivery or discovery of (S, b)
        self.pending: list[_Occ] = []  # occurrences it is interested in, not yet satisfied
        self.candidate: _Occ | None = None  # after its interest ended: one it may carry
        self.cand_end = 0  # seq where that interest ended
        self.judged = -1  # seq of the latest occurrence it was interested in, or passed


class _Key:
    """Per (socket, event): the latest occurrence and notification, and who watches."""

    __slots__ = ("discards", "latest", "note", "open_records", "rank", "watchers")

    def __init__(self, rank: int) -> None:
        self.latest: _Occ | None = None
        self.note: _Note | None = None
        self.open_records: list[_Note] = []  # records not yet taken nor cleared
        self.discards: list[tuple[int, TraceRecord | None]] = []  # (seq, the clearing call)
        self.watchers: dict[str, _Watch] = {}
        self.rank = rank  # order of its first delivery, for the order of stale findings


class Oracle:
    """Judges a run's records as they come; ``finish`` gives every verdict.

    ``keep_delivered=False`` counts delivered occurrences (``delivered``) instead of
    keeping a verdict for each: a streamed run's memory then stays flat.
    """

    def __init__(self, keep_delivered: bool = True) -> None:
        self.keep_delivered = keep_delivered
        self.delivered: Counter[tuple[str, str, str]] = Counter()  # (process, socket, event)
        self._per_occ: list[tuple[int, str, Verdict]] = []
        self._stale: list[tuple[int, int, Verdict]] = []
        self._spurious: list[tuple[int, int, Verdict]] = []
        self._keys: dict[tuple[str, str], _Key] = {}
        self._reg: dict[str, _Reg] = {}  # the registration in effect, per socket
        self._gens: dict[str, dict[int, _Reg]] = {}  # per socket, by generation
        self._posts: dict[int, _Note] = {}  # posts not yet taken, by seq
        self._last_call: TraceRecord | None = None
        self._end_t = 0
        # interest bookkeeping
        self._open: dict[str, dict[tuple[str, str], None]] = {}  # per process: open keys
        self._via: dict[tuple[str, str], str] = {}  # (process, socket) -> label registered
        self._selected: dict[tuple[str, str], TraceRecord] = {}  # its latest registration
        self._descs: dict[tuple[str, str], set[str]] = {}  # (process, socket) -> open labels
        self._label_sock: dict[str, str] = {}
        self._live: dict[str, str] = {}  # labels known open, to their socket
        self._gone: set[str] = set()  # labels whose last successful call closed them
        # spurious bookkeeping, per process
        self._rank: dict[str, int] = {}  # order of a process's first call or delivery
        self._pending_check: dict[str, dict[tuple[str, str], TraceRecord]] = {}
        self._wake: dict[str, list[Any]] = {}  # process -> [wait record, enums, all empty]
        self._deliver_ranks = 0
        # R78: what each actor waits in now (its latest block record), and the findings
        self._blocks: dict[str, TraceRecord] = {}
        self._undefined: list[Verdict] = []

    # -- records ---------------------------------------------------------------------

    def records(self, batch: list[TraceRecord]) -> None:
        """Judge a batch of records, in order: calls, most of the records, here; the other
        kinds through a table of handlers (a kind not in it changes nothing)."""
        call, live, gone, rank, wakes = self._call, self._live, self._gone, self._rank, self._wake
        on = {
            OCCUR: self._occur,
            DELIVER: self._deliver,
            RECORD: self._note,
            POST: self._note,
            BLOCK: self._block,
            SUPPRESS: self._suppress,
            DISCARD: self._discard,
            REGISTER: self._register,
        }.get
        for r in batch:
            if r.kind is not CALL:
                handle = on(r.kind)
                if handle is not None:
                    handle(r)
                continue
            self._last_call = r
            if r.call == ENUMERATE and r.error is None:
                # an events loop makes most calls, and this is all they can change
                label, proc = r.descriptor, r.actor or ""
                if live.get(label or "") != r.socket:
                    self._see(r)
                if gone and label in gone:
                    gone.discard(label or "")
                if proc not in rank:
                    rank[proc] = len(rank)
                wake = wakes.get(proc)
                if wake is not None:
                    wake[1] += 1
                    if r.result:
                        wake[2] = False
            else:
                call(r)
        if batch:  # the last one: when the run ended, as far as records tell
            self._end_t = batch[-1].t_us

    def _block(self, r: TraceRecord) -> None:
        """A thread's wait on event objects: R78 asks who waits on what."""
        if r.actor != r.process and r.data and "handles" in r.data:
            self._blocks[r.actor or ""] = r

    def _see(self, r: TraceRecord) -> None:
        """A call through a descriptor label: which socket it names, per process."""
        label, sock, proc = r.descriptor, r.socket, r.actor
        if label and sock and r.process and proc:
            self._live[label] = sock
            self._label_sock[label] = sock
            self._descs.setdefault((proc, sock), set()).add(label)

    def _key(self, sock: str, event: str) -> _Key:
        key = self._keys.get((sock, event))
        if key is None:
            key = self._keys[(sock, event)] = _Key(-1)
        return key

    def _watch(self, key: _Key, proc: str) -> _Watch:
        w = key.watchers.get(proc)
        if w is None:
            w = key.watchers[proc] = _Watch()
        return w

    # occurrences and notifications

    def _occur(self, r: TraceRecord) -> None:
        sock = r.socket or ""
        key = self._keys.get((sock, r.event or ""))
        if key is None:
            key = self._key(sock, r.event or "")
        o = _Occ(r, self._reg.get(sock), key.note)
        if key.watchers:
            seq = r.seq
            for proc, w in key.watchers.items():
                if w.candidate is not None:  # no longer the latest: it cannot be carried
                    self._withdrawn(proc, w.candidate, w.cand_end)
                    w.candidate = None
                if w.open:
                    w.pending.append(o)
                    w.judged = seq
        key.latest = o

    def _suppress(self, r: TraceRecord) -> None:
        key = self._keys.get((r.socket or "", r.event or ""))
        if key is not None and key.latest is not None and key.latest.seq == r.cause:
            key.latest.suppress = r.reason

    def _note(self, r: TraceRecord) -> None:
        if not r.process:
            return
        key = self._keys.get((r.socket or "", r.event or ""))
        if key is None:
            key = self._key(r.socket or "", r.event or "")
        note = _Note(r)
        key.note = note
        latest = key.latest
        if latest is not None and latest.next_note is None:
            latest.next_note = note
        for w in key.watchers.values():
            for o in reversed(w.pending):  # older ones have theirs once a newer one has
                if o.next_note is not None:
                    break
                o.next_note = note
            if w.candidate is not None and w.candidate.next_note is None:
                w.candidate.next_note = note
        if r.kind is RECORD:
            key.open_records.append(note)
        else:
            self._posts[r.seq] = note

    def _discard(self, r: TraceRecord) -> None:
        key = self._key(r.socket or "", r.event or "")
        call = self._last_call if self._last_call and self._last_call.seq == r.cause else None
        key.discards.append((r.seq, call))
        key.open_records.clear()  # cleared before anyone took them

    def _deliver(self, r: TraceRecord) -> None:
        if not r.process:
            return
        sock, event, proc = r.socket or "", r.event or "", r.actor or ""
        key = self._keys.get((sock, event))
        if key is None:
            key = self._key(sock, event)
        if key.rank < 0:
            key.rank = self._deliver_ranks
            self._deliver_ranks += 1
        if r.cause is not None:
            post = self._posts.pop(r.cause, None)
            if post is not None:
                post.consumer = _Taker(r)
        if key.open_records:
            taker = _Taker(r)
            for note in key.open_records:
                note.consumer = taker
            key.open_records.clear()
        reg = self._reg.get(sock)
        if reg is None or reg.owner != proc or (self._gone and r.descriptor in self._gone):
            self._stale_found(r, sock, event, proc, key, reg)
        if proc not in self._rank:
            self._rank[proc] = len(self._rank)
        check = RECHECK.get(event)
        if check is not None:
            pending = self._pending_check.get(proc)
            if pending is None:
                pending = self._pending_check[proc] = {}
            pending[(sock, check)] = r
        self._satisfy(key, proc, r, "notification")

    def _satisfy(self, key: _Key, proc: str, r: TraceRecord, via: str) -> None:
        latest = key.latest
        if latest is not None:
            sat = latest.sat
            if sat is None:
                latest.sat = (proc,)
            elif proc not in sat:
                latest.sat = (*sat, proc)
        w = key.watchers.get(proc)
        if w is None:
            return
        w.told = r.seq
        if w.pending:
            if self.keep_delivered:
                t_cause, cause, per_occ = r.t_us, r.seq, self._per_occ
                for o in w.pending:  # one per delivered occurrence: made as a plain tuple is
                    v = tuple.__new__(  # (NamedTuple's own __new__ is a Python function)
                        Verdict,
                        ("delivered", proc, o.t_us, o.socket, o.event, o.seq, via,
                         None, None, cause, "", t_cause),
                    )  # fmt: skip
                    per_occ.append((o.seq, proc, v))
            else:
                counts = self.delivered
                for o in w.pending:
                    counts[(proc, o.socket or "", o.event or "")] += 1
            w.pending.clear()
        if w.candidate is not None:  # taken while not interested: it is not carried
            self._withdrawn(proc, w.candidate, w.cand_end)
            w.candidate = None

    # calls

    def _call(self, r: TraceRecord) -> None:
        proc = r.actor if r.process else None
        if self._blocks:  # it runs again: whatever it waited in has returned
            self._blocks.pop(proc or "", None)
        label = r.descriptor
        call = r.call or ""
        if label is not None:
            if self._live.get(label) != r.socket:
                self._see(r)
            if r.error is None:
                if call == "closesocket":
                    self._gone.add(label)
                elif self._gone:
                    self._gone.discard(label)
        if not proc:
            return
        if proc not in self._rank:
            self._rank[proc] = len(self._rank)
        sock = r.socket
        if call == "accept" and r.data:
            new, new_sock = r.data.get("new"), r.data.get("new_socket")
            if new and new_sock:
                self._label_sock[new] = new_sock
                self._descs.setdefault((proc, new_sock), set()).add(new)
        self._spurious_check(proc, r, sock or "", call)
        if sock and call in DISCOVERING:
            if call == "send":  # the common cases, without making a list
                found: Iterable[str] = () if r.error is not None else _WRITE
            elif (
                call == "recv" and r.error is None and not r.data and not (r.args or {}).get("oob")
            ):
                res = r.result
                found = _READ if isinstance(res, int) and res > 0 else discovered(r)
            else:
                found = discovered(r)
            for event in found:
                self._found(self._keys.get((sock, event)) or self._key(sock, event), r, proc)
        elif call in READINESS and r.data:
            for sock_, event in r.data.get("shows", ()):
                self._found(self._keys.get((sock_, event)) or self._key(sock_, event), r, proc)
        if call == "closesocket" and r.error is None and label:
            self._closed(proc, label, r.seq)
        elif call == "exit":  # the whole process: every actor of it
            for who in [w for w in self._open if w == r.process or _of(w, r.process)]:
                for sock_ in dict.fromkeys(s for s, _ in self._open.get(who, {})):
                    self._set_mask(who, sock_, frozenset(), r.seq, ())
        elif call == "WSACloseEvent" and r.error is None:
            self._closed_event(r, proc)

    def _found(self, key: _Key, r: TraceRecord, proc: str) -> None:
        """``proc`` found (S, b) by its own I/O: that satisfies it, and is noted on the
        occurrences still open for the others, newest first (once one has two discoverers
        from two processes, every older one has them too)."""
        latest = key.latest
        if latest is not None:  # it may yet be carried into someone's interest
            ios = latest.ios  # mostly noted already, by this same process: no call then
            if ios is None or (len(ios) < 2 and ios[0][1] != proc):
                _note_io(latest, r, proc)
        for who, w in key.watchers.items():
            if who == proc:  # what it found itself satisfies it: no cause of its own losses
                continue
            for o in reversed(w.pending):
                if not _note_io(o, r, proc):
                    break
            if w.candidate is not None:
                _note_io(w.candidate, r, proc)
        self._satisfy(key, proc, r, "io")

    # registrations and interest

    def _register(self, r: TraceRecord) -> None:
        sock = r.socket
        if not sock:
            return
        data = r.data or {}
        owner = data.get("owner")
        cause = self._last_call if self._last_call and self._last_call.seq == r.cause else None
        caller = r.actor if r.process else None
        reg = _Reg(r.gen, owner, caller, cause)
        self._reg[sock] = reg
        if r.gen is not None:
            self._gens.setdefault(sock, {})[r.gen] = reg
        call = cause.call if cause is not None else None
        is_select = call in SELECTS
        inherited = call == "accept"
        if caller and (is_select or (inherited and owner == caller)):
            mask = frozenset(data.get("mask", ()))
            self._selected[(caller, sock)] = r
            self._set_mask(caller, sock, mask, r.seq, data.get("holds", ()))
            if r.descriptor:
                self._via[(caller, sock)] = r.descriptor

    def _set_mask(
        self, proc: str, sock: str, mask: frozenset[str], seq: int, holds: Iterable[str]
    ) -> None:
        opened = self._open.setdefault(proc, {})
        held = frozenset(holds)
        for event in EVENT_NAMES:
            here = (sock, event) in opened
            if event in mask and not here:
                opened[(sock, event)] = None
                self._begin(self._key(sock, event), proc, seq, event in held)
            elif event not in mask and here:
                del opened[(sock, event)]
                self._end(self._key(sock, event), proc, seq)

    def _begin(self, key: _Key, proc: str, seq: int, holds: bool) -> None:
        """Interest begins: an occurrence from before it may be carried into it (6.1)."""
        w = self._watch(key, proc)
        w.open = True
        o = w.candidate
        if o is not None:
            w.candidate = None
            if holds:  # a delivery or discovery in between would have withdrawn it
                w.pending = [o]
            else:
                self._withdrawn(proc, o, w.cand_end)
            return
        o = key.latest
        if o is not None and o.seq > w.judged:
            w.judged = o.seq  # the first interest after it decides, whatever it decides
            if holds and (o.sat is None or proc not in o.sat):
                w.pending = [o]

    def _end(self, key: _Key, proc: str, seq: int) -> None:
        """Interest ends: what it still waited for is withdrawn, but the latest may be
        carried into the next interest."""
        w = self._watch(key, proc)
        w.open = False
        pending = w.pending
        if pending:
            for o in pending[:-1]:
                self._withdrawn(proc, o, seq)
            w.candidate, w.cand_end = pending[-1], seq
            w.pending = []

    def _closed(self, proc: str, label: str, seq: int) -> None:
        sock = self._label_sock.get(label)
        if sock is None:
            return
        left = self._descs.setdefault((proc, sock), set())
        left.discard(label)
        self._live.pop(label, None)
        if self._via.get((proc, sock)) == label or not left:
            self._set_mask(proc, sock, frozenset(), seq, ())

    # stale and spurious

    def _stale_found(
        self, d: TraceRecord, sock: str, event: str, proc: str, key: _Key, reg: _Reg | None
    ) -> None:
        if d.descriptor in self._gone:
            who = f"but its wParam {d.descriptor} was already closed"
        elif reg is None or reg.owner is None:
            who = "while the socket had no registration"
        else:
            who = f"while the registration was {reg.owner}'s"
        v = Verdict(
            "stale",
            proc or "-",
            d.t_us,
            sock,
            event,
            cause=d.seq,
            said=f"{format_time(d.t_us)} {proc} took {event} {who}",
        )
        self._stale.append((key.rank, d.seq, v))

    def _closed_event(self, r: TraceRecord, proc: str | None) -> None:
        """WSACloseEvent on a handle another thread of the process waits on (R78)."""
        name = (r.args or {}).get("event")
        for who, block in self._blocks.items():
            if who == proc or block.process != r.process:
                continue
            if name not in (block.data or {}).get("handles", ()):
                continue
            self._undefined.append(
                Verdict(
                    "undefined",
                    proc or "-",
                    r.t_us,
                    cause=r.seq,
                    by=who,
                    said=f"{format_time(r.t_us)} {proc} closed event {name} while {who} "
                    f"waited on it (R78: undefined)",
                )
            )

    def _seen(self, proc: str) -> None:
        if proc not in self._rank:
            self._rank[proc] = len(self._rank)

    def _spurious_check(self, proc: str, r: TraceRecord, sock: str, call: str) -> None:
        wake = self._wake.get(proc)
        if wake is not None:
            self._end_wake(proc, wake)
        pending = self._pending_check.get(proc)
        if pending:
            d = pending.pop((sock, call), None)
            if d is not None and r.error == "WSAEWOULDBLOCK":
                v = Verdict(
                    "spurious",
                    proc,
                    d.t_us,
                    d.socket,
                    d.event,
                    cause=r.seq,
                    said=f"{format_time(d.t_us)} {proc} took {d.event}, and its {call} at "
                    f"{format_time(r.t_us)} failed with WSAEWOULDBLOCK",
                )
                self._spurious.append((self._rank[proc], r.seq, v))
        if call == "WSAWaitForMultipleEvents" and isinstance(r.result, int):
            self._wake[proc] = [r, 0, True]

    def _end_wake(self, proc: str, wake: list[Any]) -> None:
        del self._wake[proc]
        r, enums, empty = wake
        if enums and empty:
            v = Verdict(
                "spurious",
                proc,
                r.t_us,
                cause=r.seq,
                said=f"{format_time(r.t_us)} {proc} woke up and enumerated nothing (empty wake)",
            )
            self._spurious.append((self._rank[proc], r.seq, v))

    # -- verdicts per occurrence -----------------------------------------------------------

    def _withdrawn(self, proc: str, o: _Occ, end: int) -> None:
        v = Verdict(
            "withdrawn",
            proc,
            o.t_us,
            o.socket,
            o.event,
            o.seq,
            cause=end,
            said=f"{format_time(o.t_us)} {o.event}: {proc} withdrew its interest",
        )
        self._per_occ.append((o.seq, proc, v))

    def _lost(self, proc: str, o: _Occ) -> Verdict:
        occ = o
        sock, name, t_o = occ.socket or "", occ.event or "", occ.t_us
        head = f"{format_time(t_o)} {name} lost for {proc}: "

        def lost(reason: str, by: str | None, cause: int | None, text: str) -> Verdict:
            return Verdict(
                "lost", proc, t_o, sock, name, occ.seq, reason=reason, by=by, cause=cause,
                said=head + text,
            )  # fmt: skip

        held = o.next_note
        if held is None and o.prev_note is not None:
            taker = o.prev_note.consumer
            if taker is None or taker.seq > occ.seq:
                held = o.prev_note  # still waiting to be taken when it happened
        note = held
        # 1. consumed by another actor (notification or its own I/O)
        taker = held.consumer if held is not None else None
        if taker is not None and taker.actor != proc:
            via = "message" if taker.reason is Reason.MESSAGE else "enumerate"
            return lost(
                "delivered-to-other-process",
                taker.actor,
                taker.seq,
                f"taken by {taker.actor} at {format_time(taker.t_us)} ({via})",
            )
        for seq, other, call, t in o.ios or ():
            if other != proc:
                return lost(
                    "delivered-to-other-process",
                    other,
                    seq,
                    f"{other} found it first by its own {call} at {format_time(t)}",
                )
        # 2. the registration was another process's
        gens = self._gens.get(sock, {})
        of_note = gens.get(note.gen) if note is not None and note.gen is not None else None
        for reg in (o.reg, of_note):
            if (
                reg is not None
                and reg.owner != proc
                and reg.caller != proc
                and reg.call is not None
            ):
                what = "cancelled" if reg.owner is None else "replaced"
                return lost(
                    "replaced-by",
                    reg.caller,
                    reg.call.seq,
                    f"registration {what} at {format_time(reg.call.t_us)} by "
                    f"{reg.caller}'s {_call_short(reg.call)}",
                )
        # 3. recorded for P, then cleared
        if note is not None and note.kind is RECORD and _for(note, of_note) == proc:
            key = self._keys[(sock, name)]
            i = bisect.bisect_right(key.discards, note.seq, key=lambda d: d[0])
            cleared = key.discards[i][1] if i < len(key.discards) else None
            if cleared is not None:
                return lost(
                    "record-cleared-by",
                    cleared.actor,
                    cleared.seq,
                    f"recorded for {note.descriptor}, cleared at {format_time(cleared.t_us)} "
                    f"by {cleared.actor}'s {_call_short(cleared)}",
                )
        # 4. latched
        if o.suppress is Reason.LATCHED:
            return lost("latched", None, occ.seq, _latched_text(name, o.prev_note))
        # 5. masked out
        if note is None or o.suppress in NO_REG:
            return lost(
                "masked-out",
                None,
                occ.seq,
                "no registration selected it when it happened, and none reported it later",
            )
        # 6. reached P but never taken
        where = f"posted to {proc}'s window" if note.kind is POST else "recorded and signalled"
        return lost(
            "unconsumed",
            proc,
            note.seq,
            f"{where} at {format_time(note.t_us)}, but {proc} never took it",
        )

    # -- the end ---------------------------------------------------------------------------

    def finish(
        self,
        blocked: dict[str, str | None],
        holds: Mapping[str, Collection[str]] | None = None,
        notified: Collection[str] = (),
    ) -> list[Verdict]:
        """Every verdict, in order: per occurrence (by occurrence, then process), stale,
        spurious, hang, stall. ``blocked`` says what each process still waits in at the
        end; ``holds`` which FD_ conditions hold then, per socket; ``notified`` which of the
        blocked processes wait for a notification (a message or an event object)."""
        for proc, wake in list(self._wake.items()):
            self._end_wake(proc, wake)
        for key in self._keys.values():
            for proc, w in key.watchers.items():
                for o in w.pending:
                    self._per_occ.append((o.seq, proc, self._lost(proc, o)))
                w.pending = []
                if w.candidate is not None:
                    self._withdrawn(proc, w.candidate, w.cand_end)
                    w.candidate = None
        self._per_occ.sort(key=_BY_OCCURRENCE)
        per_occ = [v for _, _, v in self._per_occ]
        self._stale.sort(key=_BY_OCCURRENCE)
        self._spurious.sort(key=_BY_OCCURRENCE)
        # per process: its first lost occurrence and how many it lost, in one pass
        losses: dict[str, list[Any]] = {}
        for v in per_occ:
            if v.kind == "lost":
                mine = losses.get(v.process)
                if mine is None:
                    losses[v.process] = [v.occurrence, 1]
                else:
                    mine[1] += 1
        hangs = []
        for proc, what in blocked.items():
            lost = losses.get(proc)
            if what and lost:
                hangs.append(
                    Verdict(
                        "hang",
                        proc,
                        self._end_t,
                        cause=lost[0],
                        said=f"{proc} is still waiting in {what} at the end, with "
                        f"{lost[1]} lost notification(s)",
                    )
                )
        hung = {v.process for v in hangs}
        stalls = [
            v
            for proc in notified
            if proc not in hung and blocked.get(proc)
            for v in self._stall(proc, blocked[proc] or "", holds or {})
        ]
        return [
            *per_occ,
            *(v for _, _, v in self._stale),
            *(v for _, _, v in self._spurious),
            *hangs,
            *stalls,
            *self._undefined,
        ]

    def _stall(self, proc: str, what: str, holds: Mapping[str, Collection[str]]) -> list[Verdict]:
        """A stall: ``proc`` waits for a notification while a condition it registered for
        already holds, and nothing told it so since it registered (semantics 6.2); the
        first such (socket, event) in the order its interest began."""
        for sock, event in self._open.get(proc, {}):
            if event not in holds.get(sock, ()):
                continue
            key = self._keys[(sock, event)]
            if key.latest is None:
                continue  # it never became true here (FD_CONNECT on an accepted socket)
            reg = self._selected.get((proc, sock))
            w = key.watchers.get(proc)
            since = reg.seq if reg is not None else -1
            if w is not None and w.told > since:
                continue  # told while this registration lasted: it may act on it
            note = key.note
            if (
                note is not None
                and note.consumer is None
                and _for(note, self._gens.get(sock, {}).get(note.gen or -1)) == proc
                and (note.kind is POST or note in key.open_records)
            ):
                continue  # a notification waits for it still (6.2 unconsumed)
            return [self._stall_verdict(proc, what, sock, event, key, reg)]
        return []

    def _stall_verdict(
        self, proc: str, what: str, sock: str, event: str, key: _Key, reg: TraceRecord | None
    ) -> Verdict:
        """The stall with its cause: whoever took or found the condition last, or the rule
        that reports it once."""
        head = f"{proc} is still waiting in {what} at the end while {event} holds on {sock}"
        since = f" since its registration at {format_time(reg.t_us)}" if reg is not None else ""
        o = key.latest
        assert o is not None
        occ = o.seq
        taker = key.note.consumer if key.note is not None else None
        found = [io for io in (o.ios or ()) if io[1] != proc]
        if taker is not None and taker.actor != proc:
            via = "message" if taker.reason is Reason.MESSAGE else "enumerate"
            return Verdict(
                "stall", proc, self._end_t, sock, event, occ, reason="taken-by",
                by=taker.actor, cause=taker.seq,
                said=f"{head}: {taker.actor} took it at {format_time(taker.t_us)} ({via}), "
                f"and nothing told {proc}{since}",
            )  # fmt: skip
        if found:
            seq, other, call, t = found[0]
            return Verdict(
                "stall", proc, self._end_t, sock, event, occ, reason="taken-by", by=other,
                cause=seq,
                said=f"{head}: {other} found it by its own {call} at {format_time(t)}, and "
                f"nothing told {proc}{since}",
            )  # fmt: skip
        rule = REPORT_ONCE.get(event, f"{event} is reported once")
        if taker is not None:
            return Verdict(
                "stall", proc, self._end_t, sock, event, occ, reason="report-once", by=proc,
                cause=taker.seq,
                said=f"{head}: it was reported to {proc} at {format_time(taker.t_us)}, "
                f"before its latest registration; {rule}",
            )  # fmt: skip
        return Verdict(
            "stall", proc, self._end_t, sock, event, occ, reason="report-once", by=None,
            cause=occ,
            said=f"{head}: no notification of it reached {proc}{since}; {rule}",
        )  # fmt: skip


def _note_io(o: _Occ, r: TraceRecord, proc: str) -> bool:
    """Add a discovery to an occurrence's first two (by distinct processes); False when it
    changes nothing there: it had two already, or one by the same process. An older pending
    occurrence has seen every discovery a newer one has, so it is then unchanged too, and
    ``_found`` stops: a process that keeps finding what another never takes costs
    nothing per occurrence left waiting."""
    ios = o.ios
    if ios is None:
        o.ios = ((r.seq, proc, r.call or "", r.t_us),)
        return True
    if len(ios) >= 2 or ios[0][1] == proc:
        return False
    o.ios = (*ios, (r.seq, proc, r.call or "", r.t_us))
    return True


def _call_short(call: TraceRecord) -> str:
    return call_text(call).split(" ->")[0]


def _latched_text(name: str, prev: _Note | None) -> str:
    """Name the notification that set the latch, and who took it."""
    if prev is None:
        return "not re-enabled since an earlier notification (no re-enabling call came)"
    how = "posted" if prev.kind is POST else "recorded"
    taker = prev.consumer
    took = f", taken by {taker.actor} at {format_time(taker.t_us)}" if taker else ""
    return (
        f"not re-enabled since {name} was {how} at {format_time(prev.t_us)}{took} "
        "(no re-enabling call came after it)"
    )


def _of(actor: str, process: str | None) -> bool:
    """Whether ``actor`` is a thread or library object of ``process`` (``A/io`` of ``A``)."""
    return process is not None and actor.startswith(process) and actor[len(process) :][:1] == "/"


def _for(note: _Note, reg: _Reg | None) -> str | None:
    """Whom a notification was made for: its registration's actor (else its process)."""
    return reg.owner if reg is not None else note.process


def verdicts(
    trace: list[TraceRecord],
    blocked: dict[str, str | None],
    holds: Mapping[str, Collection[str]] | None = None,
    notified: Collection[str] = (),
) -> list[Verdict]:
    """Every verdict of a finished trace (the oracle run over it at once)."""
    oracle = Oracle()
    oracle.records(trace)
    return oracle.finish(blocked, holds, notified)
