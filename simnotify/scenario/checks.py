"""Cross-references: names one part of a scenario uses and another part must define.

No single table can check these, so they run on a validated ``Scenario``, both when a
file is loaded and when a scenario built in Python is compiled.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..units import format_time, parse_time
from .errors import Path, Problem, format_path, quote, sorted_problems, unknown
from .fields import split_endpoint
from .model import CallModel, Connect, DuplicateSocket, Scenario

Found = Iterator[tuple[Path, str]]


def check(scenario: Scenario, limit: int) -> list[Problem]:
    """Every broken cross-reference (at most ``limit``), located and in line order."""
    found = ((scenario.line(path), path, msg) for path, msg in _cross_references(scenario))
    return sorted_problems(scenario.source, found, limit)


def _cross_references(sc: Scenario) -> Found:
    yield from _calls(sc)
    yield from _connections(sc)
    yield from _outcomes(sc)
    yield from _step_times(sc)


def _all_calls(sc: Scenario) -> Iterator[tuple[Path, CallModel]]:
    for i, step in enumerate(sc.steps):
        yield ("steps", i), step
    for name, process in sc.processes.items():
        for key, calls in process.on.items():
            for j, call in enumerate(calls):
                yield ("processes", name, "on", key, j), call


def _process(path: Path, name: str, processes: Mapping[str, object]) -> Found:
    if name not in processes:
        yield path, unknown("process", name, processes)


def _endpoint(path: Path, text: str, processes: Mapping[str, object]) -> Found:
    proc, _ = split_endpoint(text)
    if proc not in processes:
        yield path, f"{unknown('process', proc, processes)} in {quote(text)}"


def _calls(sc: Scenario) -> Found:
    ids: dict[str, Path] = {}
    for path, call in _all_calls(sc):
        if path[0] == "steps":
            yield from _process((*path, "process"), call.process, sc.processes)  # type: ignore[attr-defined]
        if isinstance(call, Connect) and call.to is not None:
            yield from _endpoint((*path, "to"), call.to, sc.processes)
        if isinstance(call, DuplicateSocket):
            yield from _process((*path, "target"), call.target, sc.processes)
        if call.id is not None:
            first = ids.setdefault(call.id, path)
            if first is not path:
                yield (*path, "id"), f"id {quote(call.id)} is already used by {format_path(first)}"


def _connections(sc: Scenario) -> Found:
    created: dict[str, Path] = {}
    for i, conn in enumerate(sc.connection):
        for side in ("client", "server"):
            path: Path = ("connection", i, side)
            text = getattr(conn, side)
            yield from _endpoint(path, text, sc.processes)
            first = created.setdefault(text, path)
            if first is not path:
                yield path, f"{quote(text)} is already created by {format_path(first)}"


def _outcomes(sc: Scenario) -> Found:
    for i, outcome in enumerate(sc.expect):
        for key in ("process", "hang", "blocked"):
            name = getattr(outcome, key)
            if name is not None:
                yield from _process(("expect", i, key), name, sc.processes)
        if outcome.socket is not None:
            yield from _endpoint(("expect", i, "socket"), outcome.socket, sc.processes)


def _step_times(sc: Scenario) -> Found:
    until, _ = parse_time(sc.until)
    for i, at in enumerate(sc.step_times()):
        if at > until:
            message = f"step time {format_time(at)} is after until ({format_time(until)})"
            yield ("steps", i, "at"), message
