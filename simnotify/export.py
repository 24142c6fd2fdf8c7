"""Exports of a run for other tools: Chrome trace events, CSV, plain records, pandas.

The text timeline reads top to bottom; a trace viewer (Perfetto, chrome://tracing) shows
the same records per process on a time axis, with an arrow from each record to the one it
caused, which is how a lost notification is followed back to the call that lost it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from .describe import record_text
from .jsonl import record_dict
from .trace import FIELDS, Kind, TraceRecord, who
from .verdicts import Verdict

if TYPE_CHECKING:
    import pandas as pd

    from .runs import Traced

#: Display name of the pseudo-process that holds socket-level records (no process).
NETWORK = "network"
MAIN = "main"
VERDICTS = "verdicts"

#: Kinds a thread or library object does itself (its calls, waits and takes).
_ACTED = frozenset((Kind.CALL, Kind.BLOCK, Kind.DELIVER))

# A track: (process name or None for the network, thread name).
Track = tuple[str | None, str]
# Sort key of an event group (a record's slice or instant, then its flow steps, which bind
# to it): (ts, -dur for a call that waited, seq). A wait encloses what starts with it;
# everything else keeps trace order, so instants before a call do not nest inside it.
GroupKey = tuple[int, int, int]


def _thread(rec: TraceRecord) -> Track:
    """The track of a record: a descriptor, window or event object of its process; what a
    thread or library object of a process does (``A/io``), that one's own track."""
    proc = rec.process
    if proc is None:
        return None, rec.socket or NETWORK
    by = who(rec)
    if by != proc and rec.kind in _ACTED:
        return proc, by
    data = rec.data or {}
    if rec.kind is Kind.CALL:
        if rec.descriptor:
            return proc, rec.descriptor
        args = rec.args or {}
        if rec.call != "WSAWaitForMultipleEvents":
            if isinstance(args.get("window"), str):
                return proc, f"window {proc}.{args['window']}"
            if isinstance(args.get("event"), str):
                return proc, f"event {proc}.{args['event']}"
        return proc, MAIN
    if rec.kind is Kind.POST and "window" in data:
        return proc, f"window {proc}.{data['window']}"
    if rec.kind is Kind.SIGNAL and "event_object" in data:
        return proc, f"event {proc}.{data['event_object']}"
    if rec.descriptor:
        return proc, rec.descriptor
    return proc, MAIN


def _blocked_calls(trace: list[TraceRecord]) -> dict[int, TraceRecord]:
    """Call seq -> the ``block`` record it waited from.

    A call that blocks is recorded only when it completes; the process's ``block`` record
    marks when it began, when the process's next call is the call it waited in.
    """
    waiting: dict[str, TraceRecord] = {}
    found: dict[int, TraceRecord] = {}
    for rec in trace:
        if rec.process is None:
            continue
        if rec.kind is Kind.BLOCK:
            waiting[rec.process] = rec
        elif rec.kind is Kind.CALL:
            block = waiting.pop(rec.process, None)
            if block is not None and block.call == rec.call:
                found[rec.seq] = block
    return found


def verdict_fields(v: Verdict) -> dict[str, Any]:
    """A verdict in the trace's field layout, for exports that show both in one table:
    ``kind`` is the verdict's, ``detail`` its explanation, the rest in ``data``."""
    return {
        "seq": None,
        "t_us": v.t_us,
        "kind": v.kind,
        "actor": v.process,
        "process": v.process,
        "descriptor": None,
        "socket": v.socket,
        "event": v.event,
        "call": None,
        "args": None,
        "result": None,
        "error": None,
        "reason": v.reason,
        "cause": v.cause,
        "gen": None,
        "data": {"by": v.by, "occurrence": v.occurrence, "via": v.via},
        "detail": v.explanation,
    }


class _Ids:
    """Integer pids and tids: the plan's processes in order, then any others, then the
    network; threads in order of first use, ``main`` first and ``verdicts`` last.

    Tids are numbered after the pids and unique across processes, because Perfetto keys
    thread names by tid alone.
    """

    def __init__(self, result: Traced, tracks: list[Track]) -> None:
        names = [p.name for p in result.plan.processes]
        threads: dict[str | None, dict[str, None]] = {}  # dicts as ordered sets
        for proc, thread in tracks:
            threads.setdefault(proc, {})[thread] = None
        used: list[str | None] = [n for n in names if n in threads]
        used += [n for n in threads if n is not None and n not in names]
        if None in threads:
            used.append(None)
        self.pid: dict[str | None, int] = {proc: i + 1 for i, proc in enumerate(used)}
        self.tid: dict[Track, int] = {}
        rank = {MAIN: 0, VERDICTS: 2}
        for proc in used:
            ordered = sorted(threads[proc], key=lambda t: rank.get(t, 1))
            for thread in ordered:
                self.tid[(proc, thread)] = len(used) + len(self.tid) + 1

    def metadata(self) -> list[dict[str, Any]]:
        """Name and sort-order events for every pid and tid used."""
        out: list[dict[str, Any]] = []
        first: dict[str | None, int] = {}
        for (proc, thread), tid in self.tid.items():
            pid = self.pid[proc]
            if proc not in first:
                first[proc] = tid
                name = NETWORK if proc is None else proc
                out.append(_meta("process_name", pid, tid, name=name))
                out.append(_meta("process_sort_index", pid, tid, sort_index=pid))
            out.append(_meta("thread_name", pid, tid, name=thread))
            out.append(_meta("thread_sort_index", pid, tid, sort_index=tid - first[proc]))
        return out


def _meta(what: str, pid: int, tid: int, **args: Any) -> dict[str, Any]:
    return {"name": what, "ph": "M", "ts": 0, "pid": pid, "tid": tid, "args": args}


def chrome_trace(result: Traced) -> dict[str, Any]:
    """The run as Chrome Trace Event Format (JSON object form) for Perfetto and
    chrome://tracing: processes as pids, descriptors, windows and event objects as
    threads, calls as slices, other records as instants, verdicts as instants on their
    process's ``verdicts`` track, ``cause`` links as flows."""
    head, events = _chrome(result)
    return {**head, "traceEvents": list(events)}


def write_chrome(result: Traced, fh: IO[str]) -> None:
    """Write :func:`chrome_trace` as JSON, keys sorted: the same run gives the same bytes.

    The events are written one by one as they are made, never all held at once: a long
    run's export needs memory for a few small entries per record, not for its events."""
    head, events = _chrome(result)
    dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
    # the object's keys in sorted order, traceEvents last: the bytes json.dumps would give
    fh.write(dumps(head)[:-1] + ',"traceEvents":[')
    first = True
    for event in events:
        if not first:
            fh.write(",")
        fh.write(dumps(event))
        first = False
    fh.write("]}\n")


def _chrome(result: Traced) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The header of the Chrome trace and its events in order, made as they are read."""
    trace = result.trace
    blocked = _blocked_calls(trace)
    track = [_thread(r) for r in trace]
    for call_seq, block in blocked.items():
        track[block.seq] = track[call_seq]  # the wait shows on the call's own track
    shown = [v for v in result.verdicts if v.kind != "delivered"]
    first = len(trace)  # verdicts are numbered after the records, for their flows
    track += [(v.process, VERDICTS) for v in shown]
    ids = _Ids(result, track)

    def key(seq: int) -> GroupKey:
        if seq >= first:
            return (shown[seq - first].t_us, 0, seq)
        rec = trace[seq]
        waited = blocked.get(seq)
        if waited is None:
            return (rec.t_us, 0, seq)
        dur = max(1, rec.t_us - waited.t_us)
        return (waited.t_us, -dur if dur > 1 else 0, seq)

    # flows: per event, the flow steps bound to it, ("s" | "f", flow id, name)
    steps: dict[int, list[tuple[str, int, str]]] = {}
    flows = 0
    links = ((rec.seq, rec.cause, str(rec.kind)) for rec in trace if rec.cause is not None)
    verdict_links = (
        (first + i, v.cause, str(v.kind)) for i, v in enumerate(shown) if v.cause is not None
    )
    for seq, cause_seq, kind in (*links, *verdict_links):
        if not 0 <= cause_seq < first:
            continue
        cause = trace[cause_seq]
        # the arrow runs forward in time: a verdict dated at its occurrence but blamed on
        # a later call starts at the verdict (viewers drop arrows that go back in time)
        start, finish = sorted((cause.seq, seq), key=key)
        name = f"{cause.kind} -> {kind}"
        steps.setdefault(start, []).append(("s", seq, name))
        steps.setdefault(finish, []).append(("f", seq, name))
        flows += 1

    head = {
        "displayTimeUnit": "ms",
        "otherData": {
            "scenario": result.plan.name,
            "title": result.plan.title,
            "profile": result.profile,
            "records": len(trace),
            "verdicts": len(shown),
            "flows": flows,
        },
    }

    def events() -> Iterator[dict[str, Any]]:
        yield from ids.metadata()
        order = sorted(range(first + len(shown)), key=key)
        for seq in order:
            proc, thread = track[seq]
            pid, tid = ids.pid[proc], ids.tid[(proc, thread)]
            event = (
                _record_event(trace[seq], blocked)
                if seq < first
                else _verdict_event(shown[seq - first], seq)
            )
            event["pid"], event["tid"] = pid, tid
            yield event
            for ph, flow_id, name in steps.get(seq, ()):
                step = {"name": name, "cat": "cause", "id": flow_id, "ph": ph}
                step.update(ts=event["ts"], pid=pid, tid=tid)
                if ph == "f":
                    step["bp"] = "e"
                yield step

    return head, events()


def _record_event(rec: TraceRecord, blocked: dict[int, TraceRecord]) -> dict[str, Any]:
    """A record as a slice (a call, from when it began waiting) or an instant."""
    event: dict[str, Any] = {
        "name": _name(rec),
        "cat": str(rec.kind),
        "ts": rec.t_us,
        "args": {**record_dict(rec), "text": record_text(rec)},
    }
    if rec.kind is Kind.CALL:
        waited = blocked.get(rec.seq)
        if waited is not None:
            event["ts"] = waited.t_us
            event["args"]["blocked_us"] = rec.t_us - waited.t_us
        event.update(ph="X", dur=max(1, rec.t_us - event["ts"]))
    else:
        event.update(ph="i", s="t")
    return event


def _verdict_event(v: Verdict, seq: int) -> dict[str, Any]:
    """A verdict as an instant on its process's verdicts track."""
    fields = {**verdict_fields(v), "seq": seq}
    return {
        "name": f"{v.kind} {v.event}" if v.event else v.kind,
        "cat": v.kind,
        "ts": v.t_us,
        "args": {**fields, "text": v.explanation},
        "ph": "i",
        "s": "t",
    }


def _name(rec: TraceRecord) -> str:
    """Short, groupable names: the call, or the kind and the FD_ event."""
    if rec.kind is Kind.CALL:
        return rec.call or "call"
    return f"{rec.kind} {rec.event}" if rec.event else str(rec.kind)


def _cell(value: Any) -> str:
    """A CSV cell: strings as they are, None empty, everything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def write_csv(result: Traced, fh: IO[str]) -> None:
    """One row per record, then one per verdict (but delivered ones), in the trace's
    fields plus ``profile`` (open ``fh`` with ``newline=""``), so spreadsheets and scripts
    can filter and pivot a run."""
    out = csv.writer(fh)
    out.writerow([*FIELDS, "profile"])
    for row in _rows(result):  # one at a time: a long run's rows are never all held
        out.writerow([*(_cell(row[name]) for name in FIELDS), result.profile])


def to_records(result: Traced) -> list[dict[str, Any]]:
    """The trace as plain dicts with every field, then the verdicts (but delivered ones)
    in the same fields, for scripts that do not import simnotify types."""
    return list(_rows(result))


def _rows(result: Traced) -> Iterator[dict[str, Any]]:
    for rec in result.trace:
        yield record_dict(rec)
    for v in result.verdicts:
        if v.kind != "delivered":
            yield verdict_fields(v)


def to_dataframe(result: Traced) -> pd.DataFrame:
    """:func:`to_records` as a pandas DataFrame (columns: the fields plus ``profile``).

    pandas is optional: it is imported here, on first use, and only this call needs it.
    """
    try:
        import pandas
    except ImportError:
        raise RuntimeError("to_dataframe needs pandas: pip install pandas") from None
    frame = pandas.DataFrame(to_records(result), columns=list(FIELDS))
    frame = frame.astype({"seq": "Int64", "cause": "Int64", "gen": "Int64"})
    frame["profile"] = result.profile
    return frame
