"""JSON Lines traces: a header line, one line per record, then one per verdict.

The first line says what the file is (``{"format": "simnotify-trace", "version": 2, ...}``),
so a reader can check the layout; a record line has every field of
``simnotify.trace.FIELDS``; a verdict line has ``"verdict"`` (its kind) and the verdict's
fields. The same run always gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import IO, Any

from .trace import FIELDS, SCHEMA_VERSION, STORED, TraceRecord, detail
from .verdicts import Verdict

#: What a JSON Lines trace's first line says it is.
TRACE_FORMAT = "simnotify-trace"

_stored = attrgetter(*STORED)
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # built once


def record_dict(record: TraceRecord) -> dict[str, Any]:
    """Every exported field of a record, ``detail`` last."""
    values = dict(zip(STORED, _stored(record), strict=True))
    values["detail"] = detail(record)
    return values


def to_json_line(record: TraceRecord) -> str:
    """One compact, key-ordered JSON line: byte-identical for identical records."""
    return _encode(record_dict(record))


def header(scenario: str, profile: str) -> dict[str, Any]:
    """The first line of a JSON Lines trace: what it is, its layout, which run."""
    return {
        "format": TRACE_FORMAT,
        "version": SCHEMA_VERSION,
        "scenario": scenario,
        "profile": profile,
        "fields": list(FIELDS),
    }


def write_header(out: IO[str], scenario: str, profile: str) -> None:
    out.write(_encode(header(scenario, profile)) + "\n")


def write_jsonl(records: Iterable[TraceRecord], out: IO[str]) -> None:
    """Write records as JSON Lines (no header: see :func:`write_header`)."""
    out.writelines([to_json_line(rec) + "\n" for rec in records])


def write_lines(items: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """Write plain objects (verdicts, say) as JSON Lines."""
    out.writelines([_encode(item) + "\n" for item in items])


def verdict_dicts(found: Iterable[Verdict]) -> list[dict[str, Any]]:
    """The verdict lines a trace file carries after its records: every verdict but
    delivered ones (a streamed run counts those instead of keeping them)."""
    return [{"verdict": v.kind, **v.to_dict()} for v in found if v.kind != "delivered"]


def write_trace(result: Any, out: IO[str]) -> None:
    """A whole trace file of a finished run (``Result``): header, records, verdicts."""
    write_header(out, result.plan.name, result.profile)
    write_jsonl(result.trace, out)
    write_lines(verdict_dicts(result.verdicts), out)


def read_jsonl(lines: Iterable[str]) -> Iterator[TraceRecord]:
    """Read the records of a JSON Lines trace (its header and verdict lines are skipped)."""
    for line in lines:
        if not line.strip():
            continue
        values = json.loads(line)
        if "seq" not in values:
            continue
        values.pop("detail", None)
        yield TraceRecord(**values)


class JsonlSink:
    """Writes records as JSON Lines as they come, keeping none: a streamed run's trace."""

    __slots__ = ("out", "written")

    def __init__(self, out: IO[str], scenario: str, profile: str) -> None:
        self.out = out
        self.written = 0
        write_header(out, scenario, profile)

    def records(self, batch: list[TraceRecord]) -> None:
        write_jsonl(batch, self.out)
        self.written += len(batch)
