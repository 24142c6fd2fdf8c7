"""The lost-event oracle (semantics 6): verdicts computed from a finished trace.

It never runs on the hot path: the engine only records what happened, and this module
reads the records afterwards to decide, per occurrence and interested process, whether
the occurrence was delivered or lost (and why), and which consumptions were stale or
spurious, and which processes hang.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .describe import call_text
from .trace import TraceRecord
from .units import format_time
from .winsock import EVENT_NAMES

Key = tuple[str, str, str]  # (process, socket, FD_ name)
INF = 1 << 62
RESET_ERRORS = ("WSAECONNRESET", "WSAECONNABORTED")
#: connect errors that say nothing of the outcome; WSAEISCONN is not one of them: "WSAEISCONN
#: may be returned when the connection completes successfully" (the connect page)
SILENT_CONNECT_ERRORS = ("WSAEWOULDBLOCK", "WSAEALREADY", "WSAENOTSOCK", "WSAEINVAL")


@dataclass(frozen=True, slots=True)
class Verdict:
    """One finding: ``delivered``/``lost`` per occurrence, ``stale``/``spurious``/``hang``."""

    kind: str
    process: str
    t_us: int
    socket: str | None = None
    event: str | None = None
    occurrence: int | None = None  # seq of the occur record
    via: str | None = None  # delivered: "notification" | "io"
    reason: str | None = None  # lost: the cause class (semantics 6.2)
    by: str | None = None  # the process whose call or consumption caused it
    cause: int | None = None  # seq of the responsible record
    explanation: str = ""

    def text(self) -> str:
        """A line a person understands."""
        return self.explanation


@dataclass(slots=True)
class _Reg:
    seq: int
    gen: int | None
    owner: str | None
    caller: str | None
    mask: frozenset[str]
    call: int | None


@dataclass(slots=True)
class _Facts:
    """Indexes over the trace that the verdict rules query."""

    recs: list[TraceRecord]
    regs: dict[str, list[_Reg]] = field(default_factory=lambda: defaultdict(list))
    intervals: dict[Key, list[list[int]]] = field(default_factory=lambda: defaultdict(list))
    holds_at: dict[tuple[str, str, int], bool] = field(default_factory=dict)
    satisfy: dict[Key, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    occurs: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    notes: dict[tuple[str, str], list[TraceRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )
    delivers: dict[tuple[str, str], list[TraceRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )
    discards: dict[tuple[str, str], list[TraceRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )
    suppress_of: dict[int, TraceRecord] = field(default_factory=dict)


#: The calls whose outcome can show their caller an FD_ event (the rest never do).
_DISCOVERING = frozenset(("recv", "accept", "send", "connect"))


def _discovered(rec: TraceRecord) -> list[str]:
    """FD_ events a successful (or telling) call proves to its caller (6.1 discovery)."""
    call, res, err = rec.call, rec.result, rec.error
    args = rec.args or {}
    if call == "recv":
        if err in RESET_ERRORS:
            return ["FD_CLOSE"]
        if err is not None:
            return []  # a peek counts: it shows the caller the data or the end of stream
        found = []
        if isinstance(res, int) and res > 0:
            found.append("FD_OOB" if args.get("oob") else "FD_READ")
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


class _Interest:
    """Builds I(P, S) per bit as seq intervals from register, close and exit records."""

    def __init__(self, facts: _Facts) -> None:
        self.f = facts
        self.open_since: dict[Key, int] = {}
        self.via: dict[tuple[str, str], str] = {}
        self.descs: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.label_sock: dict[str, str] = {}
        self.live: dict[str, str] = {}  # labels in descs, not closed since: nothing to add

    def see_descriptor(self, rec: TraceRecord) -> None:
        """A call record: which socket each descriptor label names, per process."""
        label, sock = rec.descriptor, rec.socket
        if label and sock and rec.process and self.live.get(label) != sock:
            self.live[label] = sock
            self.label_sock[label] = sock
            self.descs[(rec.process, sock)].add(label)
        if rec.call == "accept" and rec.data and rec.process:
            new, sock = rec.data.get("new"), rec.data.get("new_socket")
            if new and sock:
                self.label_sock[new] = sock
                self.descs[(rec.process, sock)].add(new)

    def set_mask(self, proc: str, sock: str, mask: frozenset[str], seq: int) -> None:
        for name in EVENT_NAMES:
            key = (proc, sock, name)
            if name in mask and key not in self.open_since:
                self.open_since[key] = seq
                self.f.intervals[key].append([seq, INF])
            elif name not in mask and key in self.open_since:
                del self.open_since[key]
                self.f.intervals[key][-1][1] = seq

    def closed(self, proc: str, label: str, seq: int) -> None:
        sock = self.label_sock.get(label)
        if sock is None:
            return
        left = self.descs[(proc, sock)]
        left.discard(label)
        self.live.pop(label, None)
        if self.via.get((proc, sock)) == label or not left:
            self.set_mask(proc, sock, frozenset(), seq)

    def exited(self, proc: str, seq: int) -> None:
        for p, sock, _ in list(self.open_since):
            if p == proc:
                self.set_mask(proc, sock, frozenset(), seq)


def _index(trace: list[TraceRecord]) -> _Facts:
    f = _Facts(trace)
    interest = _Interest(f)
    for r in trace:
        k = r.kind
        if k == "call":  # first: most records are calls
            interest.see_descriptor(r)
            if r.process:
                if r.socket and r.call in _DISCOVERING:
                    for name in _discovered(r):
                        f.satisfy[(r.process, r.socket, name)].append((r.seq, "io"))
                if r.call == "closesocket" and r.error is None and r.descriptor:
                    interest.closed(r.process, r.descriptor, r.seq)
                elif r.call == "exit":
                    interest.exited(r.process, r.seq)
        elif k == "register" and r.socket:
            data = r.data or {}
            mask = frozenset(data.get("mask", []))
            call = trace[r.cause] if r.cause is not None else None  # seq is the index
            if call is not None and call.kind != "call":
                call = None
            f.regs[r.socket].append(_Reg(r.seq, r.gen, data.get("owner"), r.process, mask, r.cause))
            for name in data.get("holds", []):
                f.holds_at[(r.socket, name, r.seq)] = True
            is_select = call is not None and call.call in ("WSAAsyncSelect", "WSAEventSelect")
            inherited = call is not None and call.call == "accept"
            if r.process and (is_select or (inherited and data.get("owner") == r.process)):
                interest.set_mask(r.process, r.socket, mask, r.seq)
                if r.descriptor:
                    interest.via[(r.process, r.socket)] = r.descriptor
        elif k == "occur" and r.socket and r.event:
            f.occurs[(r.socket, r.event)].append(r.seq)
        elif k in ("record", "post") and r.socket and r.event and r.process:
            # a silent record (no registration) reaches nobody; if a later registration
            # picks it up, that 'resurfaced' record is the notification
            f.notes[(r.socket, r.event)].append(r)
        elif k == "deliver" and r.socket and r.event and r.process:
            f.delivers[(r.socket, r.event)].append(r)
            f.satisfy[(r.process, r.socket, r.event)].append((r.seq, "notification"))
        elif k == "discard" and r.socket and r.event:
            f.discards[(r.socket, r.event)].append(r)
        elif k == "suppress" and r.cause is not None:
            f.suppress_of[r.cause] = r
    return f


class Oracle:
    """Computes every verdict of one run."""

    def __init__(self, trace: list[TraceRecord], blocked: dict[str, str | None]) -> None:
        self.trace = trace
        self.blocked = blocked
        self.f = _index(trace)
        # sorted seq arrays for bisect, built once (queries run per occurrence)
        self._reg_seqs = {k: [r.seq for r in v] for k, v in self.f.regs.items()}
        self._sat_seqs = {k: [seq for seq, _ in v] for k, v in self.f.satisfy.items()}
        self._note_seqs = {k: [r.seq for r in v] for k, v in self.f.notes.items()}
        self._deliver_seqs = {k: [r.seq for r in v] for k, v in self.f.delivers.items()}
        self._taker_of_post = {
            d.cause: d for v in self.f.delivers.values() for d in v if d.cause is not None
        }
        self._discard_seqs = {k: [r.seq for r in v] for k, v in self.f.discards.items()}
        # discoveries by I/O per (socket, event), in seq order: who found it first
        self._io: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        for (proc, sock, name), sats in self.f.satisfy.items():
            self._io[(sock, name)].extend((seq, proc) for seq, via in sats if via == "io")
        for found in self._io.values():
            found.sort()

    # -- helpers --------------------------------------------------------------------

    def _t(self, seq: int) -> int:
        return self.trace[seq].t_us

    def _reg_at(self, sock: str, seq: int) -> _Reg | None:
        regs = self.f.regs.get(sock, [])
        i = bisect.bisect_left(self._reg_seqs.get(sock, []), seq) - 1
        return regs[i] if i >= 0 else None

    def _first_satisfaction(self, key: Key, after: int) -> tuple[int, str] | None:
        sat = self.f.satisfy.get(key, [])
        i = bisect.bisect_right(self._sat_seqs.get(key, []), after)
        return sat[i] if i < len(sat) else None

    def _carried(self, key: Key, occ: int, start: int) -> bool:
        _, sock, name = key
        occs = self.f.occurs[(sock, name)]
        nxt = bisect.bisect_right(occs, occ)
        if (nxt < len(occs) and occs[nxt] < start) or not self.f.holds_at.get(
            (sock, name, start), False
        ):
            return False  # not the latest occurrence before the interest began
        sat = self._first_satisfaction(key, occ)
        return sat is None or sat[0] > start

    def _interest_from(self, key: Key, occ: int) -> int | None:
        """Index of the interval that makes P interested in ``occ`` (directly or carried)."""
        for i, (start, end) in enumerate(self.f.intervals.get(key, [])):
            if start <= occ < end:
                return i
            if start > occ:
                return i if self._carried(key, occ, start) else None
        return None

    # -- per occurrence -----------------------------------------------------------------

    def occurrence_verdicts(self) -> list[Verdict]:
        out: list[Verdict] = []
        # only processes ever interested in (socket, event) can get a verdict for it
        procs_of: dict[tuple[str, str], list[str]] = defaultdict(list)
        for proc, sock, name in self.f.intervals:
            procs_of[(sock, name)].append(proc)
        for (sock, name), occs in sorted(self.f.occurs.items(), key=lambda kv: kv[1][0]):
            procs = sorted(procs_of.get((sock, name), ()))
            for occ in occs:
                for proc in procs:
                    v = self._judge((proc, sock, name), occ)
                    if v is not None:
                        out.append(v)
        out.sort(key=lambda v: (v.occurrence or 0, v.process))
        return out

    def _judge(self, key: Key, occ: int) -> Verdict | None:
        idx = self._interest_from(key, occ)
        if idx is None:
            return None
        proc, sock, name = key
        intervals = self.f.intervals[key]
        t_o = self._t(occ)
        while True:
            end = intervals[idx][1]
            sat = self._first_satisfaction(key, occ)
            if sat is not None and sat[0] < end:
                via = sat[1]
                how = "notification" if via == "notification" else "its own I/O"
                return Verdict(
                    "delivered",
                    proc,
                    t_o,
                    sock,
                    name,
                    occ,
                    via=via,
                    cause=sat[0],
                    explanation=f"{format_time(t_o)} {name} delivered to {proc} "
                    f"at {format_time(self._t(sat[0]))} via {how}",
                )
            if end >= INF:
                return self._lost(key, occ)
            nxt = idx + 1 if idx + 1 < len(intervals) else None
            if nxt is None or not self._carried(key, occ, intervals[nxt][0]):
                return Verdict(
                    "withdrawn",
                    proc,
                    t_o,
                    sock,
                    name,
                    occ,
                    cause=end,
                    explanation=f"{format_time(t_o)} {name}: {proc} withdrew its interest",
                )
            idx = nxt

    def _lost(self, key: Key, occ: int) -> Verdict:
        proc, sock, name = key
        t_o = self._t(occ)
        head = f"{format_time(t_o)} {name} lost for {proc}: "
        note = self._notification_for(sock, name, occ)

        def lost(reason: str, by: str | None, cause: int | None, text: str) -> Verdict:
            return Verdict(
                "lost",
                proc,
                t_o,
                sock,
                name,
                occ,
                reason=reason,
                by=by,
                cause=cause,
                explanation=head + text,
            )

        # 1. consumed by another process (notification or its own I/O)
        taker = self._consumer(note) if note is not None else None
        if taker is not None and taker.process != proc:
            return lost(
                "delivered-to-other-process",
                taker.process,
                taker.seq,
                f"taken by {taker.process} at {format_time(taker.t_us)} "
                f"({(taker.data or {}).get('via', 'notification')})",
            )
        found = self._io.get((sock, name), [])
        for first, p in found[bisect.bisect_right(found, (occ, "\uffff")) :]:
            if p != proc:
                rec = self.trace[first]
                return lost(
                    "delivered-to-other-process",
                    p,
                    first,
                    f"{p} found it first by its own {rec.call} at {format_time(rec.t_us)}",
                )
        # 2. the registration was another process's
        for reg in (self._reg_at(sock, occ), self._reg_of_gen(sock, note)):
            if (
                reg is not None
                and reg.owner != proc
                and reg.caller != proc
                and reg.call is not None
            ):
                call = self.trace[reg.call]
                what = "cancelled" if reg.owner is None else "replaced"
                return lost(
                    "replaced-by",
                    reg.caller,
                    reg.call,
                    f"registration {what} at {format_time(call.t_us)} by "
                    f"{reg.caller}'s {self._call_short(call)}",
                )
        # 3. recorded for P, then cleared
        if note is not None and note.kind == "record" and note.process == proc:
            cleared = self._cleared(note)
            if cleared is not None and cleared.cause is not None:
                call = self.trace[cleared.cause]
                return lost(
                    "record-cleared-by",
                    call.process,
                    call.seq,
                    f"recorded for {note.descriptor}, cleared at "
                    f"{format_time(call.t_us)} by {call.process}'s "
                    f"{self._call_short(call)}",
                )
        sup = self.f.suppress_of.get(occ)
        # 4. latched
        if sup is not None and sup.detail.startswith("latched"):
            return lost("latched", None, occ, self._latched_text(sock, name, occ))
        # 5. masked out
        if note is None or (sup is not None and sup.detail.startswith("dropped")):
            return lost(
                "masked-out",
                None,
                occ,
                "no registration selected it when it happened, and none reported it later",
            )
        # 6. reached P but never taken
        where = f"posted to {proc}'s window" if note.kind == "post" else "recorded and signalled"
        return lost(
            "unconsumed",
            proc,
            note.seq,
            f"{where} at {format_time(note.t_us)}, but {proc} never took it",
        )

    def _latched_text(self, sock: str, name: str, occ: int) -> str:
        """Name the notification that set the latch, and who took it."""
        notes = self.f.notes.get((sock, name), [])
        i = bisect.bisect_left(self._note_seqs.get((sock, name), []), occ) - 1
        if i < 0:
            return "not re-enabled since an earlier notification (no re-enabling call came)"
        prev = notes[i]
        how = "posted" if prev.kind == "post" else "recorded"
        taker = self._consumer(prev)
        took = f", taken by {taker.process} at {format_time(taker.t_us)}" if taker else ""
        return (
            f"not re-enabled since {name} was {how} at {format_time(prev.t_us)}{took} "
            "(no re-enabling call came after it)"
        )

    def _notification_for(self, sock: str, name: str, occ: int) -> TraceRecord | None:
        notes = self.f.notes.get((sock, name), [])
        i = bisect.bisect_left(self._note_seqs.get((sock, name), []), occ)
        if i < len(notes):
            return notes[i]
        if i > 0:
            prev = notes[i - 1]
            taker = self._consumer(prev)
            if taker is None or taker.seq > occ:
                return prev
        return None

    def _consumer(self, note: TraceRecord | None) -> TraceRecord | None:
        """Who took a notification: the delivery of that message, or the first enumerate
        of the recorded bit before anything cleared it."""
        if note is None:
            return None
        if note.kind == "post":
            return self._taker_of_post.get(note.seq)
        key = (note.socket or "", note.event or "")
        dels = self.f.delivers.get(key, [])
        i = bisect.bisect_right(self._deliver_seqs.get(key, []), note.seq)
        if i == len(dels):
            return None
        cleared = self._cleared(note)
        return dels[i] if cleared is None or cleared.seq > dels[i].seq else None

    def _cleared(self, note: TraceRecord) -> TraceRecord | None:
        key = (note.socket or "", note.event or "")
        discards = self.f.discards.get(key, [])
        i = bisect.bisect_right(self._discard_seqs.get(key, []), note.seq)
        return discards[i] if i < len(discards) else None

    def _reg_of_gen(self, sock: str, note: TraceRecord | None) -> _Reg | None:
        if note is None or note.gen is None:
            return None
        return next((r for r in self.f.regs.get(sock, []) if r.gen == note.gen), None)

    @staticmethod
    def _call_short(call: TraceRecord) -> str:
        return call_text(call).split(" ->")[0]

    # -- per consumption and per process ---------------------------------------------------

    def stale(self) -> list[Verdict]:
        out = []
        # per descriptor label, successful calls through it: (seq, was it closesocket)
        uses: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        taken_via = {d.descriptor for dels in self.f.delivers.values() for d in dels}
        for r in self.trace:
            if r.kind == "call" and r.descriptor in taken_via and r.error is None:
                uses[r.descriptor].append((r.seq, r.call == "closesocket"))
        for (sock, name), dels in self.f.delivers.items():
            for d in dels:
                reg = self._reg_at(sock, d.seq)
                history = uses.get(d.descriptor or "", [])
                i = bisect.bisect_left(history, (d.seq, False)) - 1
                gone = i >= 0 and history[i][1]  # a label reused after close is live again
                if reg is None or reg.owner != d.process or gone:
                    if gone:
                        who = f"but its wParam {d.descriptor} was already closed"
                    elif reg is None or reg.owner is None:
                        who = "while the socket had no registration"
                    else:
                        who = f"while the registration was {reg.owner}'s"
                    out.append(
                        Verdict(
                            "stale",
                            d.process or "-",
                            d.t_us,
                            sock,
                            name,
                            cause=d.seq,
                            explanation=f"{format_time(d.t_us)} {d.process} took {name} {who}",
                        )
                    )
        return out

    def spurious(self) -> list[Verdict]:
        out = []
        check = {"FD_READ": "recv", "FD_OOB": "recv", "FD_ACCEPT": "accept", "FD_WRITE": "send"}
        by_proc: dict[str, list[TraceRecord]] = defaultdict(list)
        for r in self.trace:
            if r.kind in ("call", "deliver") and r.process:
                by_proc[r.process].append(r)
        for proc, recs in by_proc.items():
            pending: dict[tuple[str, str], TraceRecord] = {}
            for i, r in enumerate(recs):
                if r.kind == "deliver" and r.event in check and r.socket:
                    pending[(r.socket, check[r.event])] = r
                    continue
                if r.kind != "call":
                    continue
                key = (r.socket or "", r.call or "")
                d = pending.pop(key, None)
                if d is not None and r.error == "WSAEWOULDBLOCK":
                    out.append(
                        Verdict(
                            "spurious",
                            proc,
                            d.t_us,
                            d.socket,
                            d.event,
                            cause=r.seq,
                            explanation=f"{format_time(d.t_us)} {proc} took {d.event}, and its "
                            f"{r.call} at {format_time(r.t_us)} failed with WSAEWOULDBLOCK",
                        )
                    )
                if (
                    r.call == "WSAWaitForMultipleEvents"
                    and isinstance(r.result, int)
                    and self._empty_wake(recs, i)
                ):
                    out.append(
                        Verdict(
                            "spurious",
                            proc,
                            r.t_us,
                            cause=r.seq,
                            explanation=f"{format_time(r.t_us)} {proc} woke up and enumerated "
                            "nothing (empty wake)",
                        )
                    )
        return out

    @staticmethod
    def _empty_wake(recs: list[TraceRecord], i: int) -> bool:
        enums = []
        for j in range(i + 1, len(recs)):  # not recs[i + 1 :]: a copy per wake
            r = recs[j]
            if r.kind == "call" and r.call == "WSAEnumNetworkEvents":
                enums.append(r)
            elif r.kind == "call":
                break
        return bool(enums) and all(r.result == [] for r in enums)

    def hangs(self, lost: list[Verdict]) -> list[Verdict]:
        out = []
        end = self.trace[-1].t_us if self.trace else 0
        for proc, what in self.blocked.items():
            mine = [v for v in lost if v.process == proc]
            if what and mine:
                out.append(
                    Verdict(
                        "hang",
                        proc,
                        end,
                        cause=mine[0].occurrence,
                        explanation=f"{proc} is still waiting in {what} at the end, with "
                        f"{len(mine)} lost notification(s)",
                    )
                )
        return out


def verdicts(trace: list[TraceRecord], blocked: dict[str, str | None]) -> list[Verdict]:
    """Every verdict of a run: per occurrence, then stale, spurious and hang findings."""
    oracle = Oracle(trace, blocked)
    per_occ = oracle.occurrence_verdicts()
    lost = [v for v in per_occ if v.kind == "lost"]
    return per_occ + oracle.stale() + oracle.spurious() + oracle.hangs(lost)


def as_records(found: list[Verdict], first_seq: int) -> list[TraceRecord]:
    """Trace records for the findings a reader looks for (not ``delivered``)."""
    recs = []
    for v in found:
        if v.kind == "delivered":
            continue
        data: dict[str, Any] = {"reason": v.reason, "by": v.by, "occurrence": v.occurrence}
        recs.append(
            TraceRecord(
                first_seq + len(recs),
                v.t_us,
                v.kind,
                v.process,
                None,
                v.socket,
                v.event,
                cause=v.cause,
                detail=v.explanation,
                data=data,
            )
        )
    return recs
