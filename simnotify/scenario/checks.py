"""Cross-references: names one part of a scenario uses and another part must define.

No single table can check these. They run on the parsed data, before or after schema
validation and whatever it found, so a file's every mistake is reported in one pass: an
unknown call in a step does not hide that the step's process is unknown too. Values of the
wrong type are skipped here; validation reports them.

A descriptor, window, event object or protocol info is *created* in a process by some part
of the file (3 below); a name a call uses that nothing can ever create in that process is
a mistake, reported at load. The check is static: a name that exists but is closed when
the call runs still fails in the trace, as on Windows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..names import INVALID_EVENT, INVALID_SOCKET
from ..units import TimeError, format_time, parse_time
from .errors import Path, Problem, did_you_mean, format_path, quote, sorted_problems, unknown

Found = Iterator[tuple[Path, str]]
#: What a call names in the calling process: (argument key, kind of name).
_CREATES: dict[str, tuple[tuple[str, str], ...]] = {
    "socket": (("as", "descriptor"),),
    "listen": (("socket", "descriptor"),),
    "connect": (("socket", "descriptor"),),
    "accept": (("as", "descriptor"),),
    "WSASocket": (("as", "descriptor"),),
    "WSAAsyncSelect": (("window", "window"),),
    "WSAEventSelect": (("event", "event"),),
    "WSACreateEvent": (("event", "event"),),
}
#: Names a call uses and that something must create: (argument key, kind of name).
_USES: dict[str, tuple[tuple[str, str], ...]] = {
    "accept": (("socket", "descriptor"),),
    "send": (("socket", "descriptor"),),
    "recv": (("socket", "descriptor"),),
    "shutdown": (("socket", "descriptor"),),
    "closesocket": (("socket", "descriptor"),),
    "WSAAsyncSelect": (("socket", "descriptor"),),
    "WSAEventSelect": (("socket", "descriptor"),),
    "WSAEnumNetworkEvents": (("socket", "descriptor"), ("event", "event")),
    "WSASetEvent": (("event", "event"),),
    "WSAResetEvent": (("event", "event"),),
    "WSACloseEvent": (("event", "event"),),
    "WSAWaitForMultipleEvents": (("events", "event"),),
    "PeekMessage": (("window", "window"),),
    "DestroyWindow": (("window", "window"),),
    "WSADuplicateSocket": (("socket", "descriptor"),),
    "WSASocket": (("protocol_info", "protocol info"),),
    "setsockopt": (("socket", "descriptor"),),
    "getsockopt": (("socket", "descriptor"),),
    "ioctlsocket": (("socket", "descriptor"),),
    "select": (("read", "descriptor"), ("write", "descriptor"), ("except", "descriptor")),
    "WSAPoll": (("fds", "descriptor"),),
}
#: Defaults the engine applies when a call leaves the argument out.
_DEFAULTS = {("WSAAsyncSelect", "window"): "main", ("PeekMessage", "window"): "main"}
_DEFAULTS_AS = {"accept": "conn"}
#: Names that stand for an invalid handle: never created, always allowed where used.
_INVALID = {"descriptor": INVALID_SOCKET, "event": INVALID_EVENT}
_TRAILING_DIGITS = re.compile(r"[0-9]+$")


def check(scenario: Any, limit: int) -> list[Problem]:
    """Every broken cross-reference of a validated ``Scenario`` built in Python."""
    raw = scenario.model_dump(by_alias=True, exclude_none=True)
    return check_raw(raw, scenario.line, scenario.source, limit)


def check_raw(
    raw: Mapping[str, Any], line: Callable[[Path], int], source: str, limit: int
) -> list[Problem]:
    """Every broken cross-reference of parsed scenario data (at most ``limit``), by line."""
    found = ((line(path), path, msg) for path, msg in _cross_references(raw))
    return sorted_problems(source, found, limit)


# -- reading the parsed data tolerantly ------------------------------------------------------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


class _Site:
    """One call as written: where it is, which process makes it, whether in a handler,
    and which call it is (``None`` when that is not a string)."""

    __slots__ = ("call", "handler", "name", "path", "process")

    def __init__(self, path: Path, process: str | None, call: dict[str, Any], handler: bool):
        self.path = path
        self.process = process
        self.call = call
        self.handler = handler
        name = call.get("call")
        self.name = name if isinstance(name, str) else None


def _sites(raw: Mapping[str, Any]) -> list[_Site]:
    sites = []
    for i, step in enumerate(_list(raw.get("steps"))):
        if isinstance(step, dict):
            sites.append(_Site(("steps", i), _str(step.get("process")), step, False))
    for name, process in _dict(raw.get("processes")).items():
        tables: list[tuple[Path, object]] = [(("processes", name), process)]
        for t, thread in _dict(_dict(process).get("threads")).items():
            tables.append((("processes", name, "threads", t), thread))
        for base, table in tables:
            for key, calls in _dict(_dict(table).get("on")).items():
                for j, call in enumerate(_list(calls)):
                    if isinstance(call, dict):
                        sites.append(_Site((*base, "on", key, j), name, call, True))
    return sites


def _threads(process: object) -> set[str]:
    """The threads a process has: ``main`` and the ones it declares."""
    return {"main", *_dict(_dict(process).get("threads"))}


def _thread(path: Path, name: object, process: str, processes: Mapping[str, object]) -> Found:
    if isinstance(name, str) and process in processes:
        known = _threads(processes[process])
        if name not in known:
            yield path, f"{unknown('thread', name, known)} of process {process}"


def _endpoint(text: object) -> tuple[str, str] | None:
    value = _str(text)
    if value is None or "." not in value:
        return None
    proc, _, desc = value.partition(".")
    return proc, desc


# -- what each process can ever create ----------------------------------------------------


@dataclass(slots=True)
class _Names:
    """Per process and kind of name, every name some part of the file can create."""

    made: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    #: processes that get a duplicate whose name only the run knows (a handler's default)
    any_from: dict[str, set[str]] = field(default_factory=dict)
    #: ``known`` once made: every use of a name asks, and the answer never changes
    _known: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add(self, process: str, kind: str, name: str) -> None:
        self.made.setdefault((process, kind), set()).add(name)

    def known(self, process: str, kind: str) -> set[str]:
        """Every name of this kind the process can have (once all ``add`` calls are done)."""
        names = self._known.get((process, kind))
        if names is not None:
            return names
        names = self.made.get((process, kind), set())
        sources = self.any_from.get(process, ()) if kind in ("descriptor", "protocol info") else ()
        if sources:
            names = set(names)
            for source in sources:
                names |= self.made.get((source, "descriptor"), set())
        self._known[(process, kind)] = names
        return names

    def creates(self, process: str, kind: str, name: str) -> bool:
        names = self.known(process, kind)
        if name in names:
            return True
        if kind not in ("descriptor", "protocol info"):
            return False
        # a second descriptor of one name is numbered: conn -> conn1, conn2, ...
        digits = _TRAILING_DIGITS.search(name)
        if digits is None:
            return False
        start = digits.start()
        return any(
            name[start + k] != "0" and name[: start + k] in names for k in range(len(name) - start)
        )


def _created(raw: Mapping[str, Any], sites: list[_Site]) -> _Names:
    names = _Names()
    for conn in _list(raw.get("connection")):
        for side in ("client", "server"):
            end = _endpoint(_dict(conn).get(side))
            if end is not None:
                names.add(end[0], "descriptor", end[1])
    for site in sites:
        call, proc = site.call, site.process
        if proc is None or site.name is None:
            continue
        for key, kind in _CREATES.get(site.name, ()):
            value = _str(call.get(key)) or _DEFAULTS.get((site.name, key))
            if value is None and key == "as":
                value = _DEFAULTS_AS.get(site.name)
            if value is not None and value != _INVALID.get(kind):
                names.add(proc, kind, value)
        if site.name == "WSADuplicateSocket":
            target = _str(call.get("target"))
            if target is None:
                continue
            given = _str(call.get("as")) or _str(call.get("socket"))
            if given is None:  # a handler's default descriptor: known only when it runs
                names.any_from.setdefault(target, set()).add(proc)
            else:
                names.add(target, "descriptor", given)
                names.add(target, "protocol info", given)
            info = _str(call.get("info"))
            if info is not None:
                names.add(target, "protocol info", info)
    return names


# -- the checks --------------------------------------------------------------------------------


def _cross_references(raw: Mapping[str, Any]) -> Found:
    processes = _dict(raw.get("processes"))
    sites = _sites(raw)
    names = _created(raw, sites)
    yield from _calls(sites, processes, names)
    yield from _reserved(raw, sites)
    yield from _connections(raw, processes)
    yield from _outcomes(raw, processes, names)
    yield from _step_times(raw)


def _process(path: Path, name: object, processes: Mapping[str, object]) -> Found:
    if isinstance(name, str) and name not in processes:
        yield path, unknown("process", name, processes)


def _endpoint_process(path: Path, text: object, processes: Mapping[str, object]) -> Found:
    end = _endpoint(text)
    if end is not None and end[0] not in processes:
        yield path, f"{unknown('process', end[0], processes)} in {quote(str(text))}"


def _never_created(path: Path, kind: str, name: str, process: str, names: _Names) -> Found:
    if name == _INVALID.get(kind) or names.creates(process, kind, name):
        return
    if kind == "protocol info" and any(
        names.creates(other, kind, name) for other, k in names.made if k == kind
    ):
        return  # sent to another process: using it here fails in the trace (WSAEINVAL)
    hint = _hint(name, names.known(process, kind))
    yield path, f"{quote(name)} is never created in process {process}{hint}"


def _hint(name: str, known: set[str]) -> str:
    """The closest name, the only one, or the few there are."""
    close = did_you_mean(name, known)
    if close or not known:
        return close
    if len(known) == 1:
        return f" (did you mean {quote(next(iter(known)))}?)"
    if len(known) <= 5:
        return f" (it has {', '.join(quote(n) for n in sorted(known))})"
    return ""


def _uses(site: _Site, names: _Names) -> Found:
    process = site.process
    assert process is not None and site.name is not None
    for key, kind in _USES.get(site.name, ()):
        value = site.call.get(key, _DEFAULTS.get((site.name, key)))
        if isinstance(value, list):
            for j, item in enumerate(value):
                if isinstance(item, str):
                    yield from _never_created((*site.path, key, j), kind, item, process, names)
                elif isinstance(item, dict) and isinstance(item.get("socket"), str):
                    path = (*site.path, key, j, "socket")  # WSAPoll's fds: {socket, events}
                    yield from _never_created(path, kind, item["socket"], process, names)
        elif isinstance(value, str) and not names.creates(process, kind, value):
            yield from _never_created((*site.path, key), kind, value, process, names)


def _calls(sites: list[_Site], processes: Mapping[str, object], names: _Names) -> Found:
    ids: dict[str, Path] = {}
    for site in sites:
        call = site.call
        if not site.handler and site.process not in processes:
            yield from _process((*site.path, "process"), call.get("process"), processes)
        thread = call.get("thread")
        if thread is not None and site.process is not None:
            yield from _thread((*site.path, "thread"), thread, site.process, processes)
        if site.process in processes and site.name in _USES:
            yield from _uses(site, names)
        if site.name == "connect":
            yield from _endpoint_process((*site.path, "to"), call.get("to"), processes)
            end = _endpoint(call.get("to"))
            if end is not None and end[0] in processes:
                yield from _never_created((*site.path, "to"), "descriptor", end[1], end[0], names)
        if site.name == "WSADuplicateSocket":
            yield from _process((*site.path, "target"), call.get("target"), processes)
        label = _str(call.get("id"))
        if label is not None:
            first = ids.setdefault(label, site.path)
            if first is not site.path:
                yield (
                    (*site.path, "id"),
                    f"id {quote(label)} is already used by {format_path(first)}",
                )


def _reserved(raw: Mapping[str, Any], sites: list[_Site]) -> Found:
    """The invalid-handle names can be passed, never given to something new."""
    why = "is reserved for an invalid handle: name the descriptor something else"
    for site in sites:
        if site.name in _CREATES and _str(site.call.get("as")) == INVALID_SOCKET:
            yield (*site.path, "as"), f"{quote(INVALID_SOCKET)} {why}"
        if site.name == "WSACreateEvent" and _str(site.call.get("event")) == INVALID_EVENT:
            yield (
                (*site.path, "event"),
                f"{quote(INVALID_EVENT)} {why.replace('descriptor', 'event')}",
            )
    for i, conn in enumerate(_list(raw.get("connection"))):
        for side in ("client", "server"):
            end = _endpoint(_dict(conn).get(side))
            if end is not None and end[1] == INVALID_SOCKET:
                yield ("connection", i, side), f"{quote(INVALID_SOCKET)} {why}"


def _connections(raw: Mapping[str, Any], processes: Mapping[str, object]) -> Found:
    created: dict[str, Path] = {}
    for i, conn in enumerate(_list(raw.get("connection"))):
        for side in ("client", "server"):
            path: Path = ("connection", i, side)
            text = _dict(conn).get(side)
            yield from _endpoint_process(path, text, processes)
            if not isinstance(text, str):
                continue
            first = created.setdefault(text, path)
            if first is not path:
                yield path, f"{quote(text)} is already created by {format_path(first)}"


def _outcomes(raw: Mapping[str, Any], processes: Mapping[str, object], names: _Names) -> Found:
    for i, outcome in enumerate(_list(raw.get("expect"))):
        table = _dict(outcome)
        for key in ("process", "hang", "stall", "blocked", "undefined"):
            yield from _process(("expect", i, key), table.get(key), processes)
            who = _str(table.get(key))
            if who is not None:
                yield from _thread(("expect", i, "thread"), table.get("thread"), who, processes)
        path: Path = ("expect", i, "socket")
        yield from _endpoint_process(path, table.get("socket"), processes)
        end = _endpoint(table.get("socket"))
        if end is not None and end[0] in processes:
            yield from _never_created(path, "descriptor", end[1], end[0], names)


def _step_times(raw: Mapping[str, Any]) -> Found:
    try:
        until, _ = parse_time(raw.get("until"))
    except TimeError:
        return  # validation says why
    now = 0
    for i, step in enumerate(_list(raw.get("steps"))):
        try:
            us, relative = parse_time(_dict(step).get("at"), allow_relative=True)
        except TimeError:
            return  # later relative times cannot be placed
        now = now + us if relative else us
        if now > until:
            message = f"step time {format_time(now)} is after until ({format_time(until)})"
            yield ("steps", i, "at"), message
