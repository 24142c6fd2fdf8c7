"""Trace records: one per happening, in order, JSON-serialisable.

Records are slotted objects built positionally, because the engine makes several per
simulated happening and this is the hottest allocation in a run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import IO, Any

#: Field order of a record, as written to JSON (docs/scenario-format.md section 4, plus
#: ``gen``: the registration generation a notification belongs to, and ``data``:
#: structured facts the oracle and exporters read).
FIELDS = (
    "seq",
    "t_us",
    "kind",
    "process",
    "descriptor",
    "socket",
    "event",
    "call",
    "args",
    "result",
    "error",
    "cause",
    "detail",
    "gen",
    "data",
)


class TraceRecord:
    """One happening. ``event`` is an FD_ name; ``descriptor`` is ``PROC.DESC``."""

    __slots__ = FIELDS

    seq: int
    t_us: int
    kind: str
    process: str | None
    descriptor: str | None
    socket: str | None
    event: str | None
    call: str | None
    args: dict[str, Any] | None
    result: Any
    error: str | None
    cause: int | None
    detail: str
    gen: int | None
    data: dict[str, Any] | None

    def __init__(
        self,
        seq: int,
        t_us: int,
        kind: str,
        process: str | None = None,
        descriptor: str | None = None,
        socket: str | None = None,
        event: str | None = None,
        call: str | None = None,
        args: dict[str, Any] | None = None,
        result: Any = None,
        error: str | None = None,
        cause: int | None = None,
        detail: str = "",
        gen: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.seq = seq
        self.t_us = t_us
        self.kind = kind
        self.process = process
        self.descriptor = descriptor
        self.socket = socket
        self.event = event
        self.call = call
        self.args = args
        self.result = result
        self.error = error
        self.cause = cause
        self.detail = detail
        self.gen = gen
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict with every field, in FIELDS order."""
        return {name: getattr(self, name) for name in FIELDS}

    def __repr__(self) -> str:
        return f"TraceRecord({self.to_dict()!r})"


_fields = attrgetter(*FIELDS)
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # built once


def to_json_line(record: TraceRecord) -> str:
    """One compact, key-ordered JSON line: byte-identical for identical records."""
    return _encode(dict(zip(FIELDS, _fields(record), strict=True)))


def write_jsonl(records: Iterable[TraceRecord], out: IO[str]) -> None:
    """Write records as JSON Lines."""
    out.writelines([to_json_line(rec) + "\n" for rec in records])


class JsonlSink:
    """Where a streamed run's records go: written as JSON Lines, then forgotten.

    It keeps only tallies (records per kind, notifications taken per process and event),
    so a run's memory does not grow with its length.
    """

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.written = 0
        self.kinds: Counter[str] = Counter()
        self.taken: Counter[tuple[str, str]] = Counter()

    def __call__(self, records: list[TraceRecord]) -> None:
        """Write a batch of finished records."""
        write_jsonl(records, self.out)
        self.written += len(records)
        self.kinds.update(r.kind for r in records)
        self.taken.update(
            (r.process or "-", r.event or "-") for r in records if r.kind == "deliver"
        )


def read_jsonl(lines: Iterable[str]) -> Iterator[TraceRecord]:
    """Read records written by :func:`write_jsonl` (for exporters and tests)."""
    for line in lines:
        if line.strip():
            yield TraceRecord(**json.loads(line))
