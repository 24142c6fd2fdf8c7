"""Validated ``Scenario`` -> ``simnotify.plan.Plan``: plain data with canonical arguments.

The engine reads only ``Plan``, so times become integer microseconds, names become the
shapes plan.py documents, and every line number travels along for messages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, reduce
from operator import or_
from typing import Any

from ..gcpause import collector_paused
from ..plan import (
    ANY_PROFILE,
    Call,
    ConnectionPlan,
    Expect,
    Jitter,
    NetworkPlan,
    OutcomeExpect,
    Plan,
    ProcessPlan,
    Step,
)
from ..units import parse_jitter, parse_time
from ..winsock import EVENT_NAMES, POLL_REQUESTS
from .checks import check
from .errors import Path, ScenarioError
from .fields import per_profile, split_endpoint
from .load import DEFAULT_LIMITS
from .model import CallModel, Process, Scenario

#: A path's line in the source file.
_Lines = Callable[[Path], int]
#: Model fields that describe the call rather than being its arguments.
_NOT_ARGS = frozenset({"call", "expect", "id", "at", "process", "jitter"})
#: File keys whose canonical argument name differs (plan.py's table).
_ARG_NAMES = {
    "protocol_info": "info",
    "FIONBIO": "fionbio",
    "FIONREAD": "fionread",
    "for": "for_us",
    "timeout": "timeout_us",
}


def build(scenario: Scenario) -> Plan:
    """Compile a scenario; raises ``ScenarioError`` if its cross-references do not hold.
    (The cycle collector rests meanwhile, as it does while loading.)"""
    with collector_paused():
        return _build(scenario)


def _build(scenario: Scenario) -> Plan:
    if not scenario._checked:
        problems = check(scenario, DEFAULT_LIMITS.max_problems)
        if problems:
            raise ScenarioError(problems)
    sc = scenario
    line = sc.line_finder()  # once: the scenario's own ``line`` costs a lookup per call
    network = NetworkPlan(
        latency_us=_us(sc.network.latency),
        ipc_delay_us=_us(sc.network.ipc_delay),
        recv_buffer=sc.network.recv_buffer,
        send_buffer=sc.network.send_buffer,
        handle_time_us=_us(sc.network.handle_time),
        jitter=_jitter(sc.network.jitter),
    )
    times = sc.step_times()
    order = sorted(range(len(times)), key=times.__getitem__)  # stable: ties keep file order
    return Plan(
        name=sc.name,
        until_us=_us(sc.until),
        processes=tuple(_process(line, name, process) for name, process in sc.processes.items()),
        steps=tuple(
            Step(
                times[i],
                sc.steps[i].process,
                _call(line, sc.steps[i], ("steps", i)),
                _jitter(sc.steps[i].jitter),
            )
            for i in order
        ),
        connections=tuple(
            ConnectionPlan(
                split_endpoint(c.client), split_endpoint(c.server), line(("connection", i))
            )
            for i, c in enumerate(sc.connection)
        ),
        network=network,
        expects=tuple(
            OutcomeExpect(
                kind=o.kind,
                value=getattr(o, o.kind),
                process=o.process,
                socket=split_endpoint(o.socket) if o.socket is not None else None,
                profile=o.profile,
                count=o.count,
                line=line(("expect", i)),
            )
            for i, o in enumerate(sc.expect)
        ),
        title=sc.title or sc.name,
        description=sc.description,
        profile=sc.profile,
        seed=sc.seed,
        source=sc.source,
    )


def _jitter(text: str | None) -> Jitter | None:
    return None if text is None else Jitter(*parse_jitter(text))


def _us(text: str) -> int:
    return parse_time(text)[0]


def _process(line: _Lines, name: str, process: Process) -> ProcessPlan:
    handle_time = None if process.handle_time is None else _us(process.handle_time)
    handlers = {
        key: tuple(_call(line, c, ("processes", name, "on", key, j)) for j, c in enumerate(calls))
        for key, calls in process.on.items()
    }
    sets = process.select
    select_sets = (
        (tuple(sets.read), tuple(sets.write), tuple(sets.except_)) if sets else ((), (), ())
    )
    return ProcessPlan(
        name, process.loop, handle_time, handlers, line(("processes", name)), select_sets
    )


@cache
def _arg_fields(model: type[CallModel]) -> tuple[tuple[str, str], ...]:
    """(attribute, file key) of each field of a call model that is an argument."""
    return tuple(
        (field_name, field.alias or field_name)
        for field_name, field in model.model_fields.items()
        if (field.alias or field_name) not in _NOT_ARGS
    )


def _call(line: _Lines, call: CallModel, path: Path) -> Call:
    name: str = call.call  # type: ignore[attr-defined]  # every concrete call model has it
    args: dict[str, Any] = {}
    for field_name, key in _arg_fields(type(call)):
        value = getattr(call, field_name)
        if key == "events" and name == "WSAWaitForMultipleEvents":
            args["handles"] = tuple(value)
        elif key == "fds":
            args["fds"] = tuple(
                (fd.socket, reduce(or_, (POLL_REQUESTS[e] for e in fd.events), 0)) for fd in value
            )
        elif key in ("read", "write", "except"):
            args[key] = tuple(value)
        elif key == "events":
            args["mask"] = reduce(or_, (EVENT_NAMES[e] for e in value), 0)
        else:
            args[_ARG_NAMES.get(key, key)] = _arg(key, value)
    expect = None
    if call.expect is not None:
        given: Any = call.expect
        by_profile: dict[str, Any] = given if per_profile(given) else {ANY_PROFILE: given}
        expect = Expect({p: _copy(v) for p, v in by_profile.items()}, line((*path, "expect")))
    return Call(name, args, line(path), expect, call.id)


def _arg(key: str, value: Any) -> Any:
    """One argument in plan.py's canonical form."""
    if value is None:
        return None
    if key == "to":
        return split_endpoint(value)
    if key == "bytes" and value == "all":
        return -1
    if key == "timeout":
        return None if value == "infinite" else _us(value)
    if key == "for":
        return _us(value)
    if key == "value" and isinstance(value, list):
        return tuple(value)
    return value


def _copy(value: Any) -> Any:
    """Expected results as fresh plain lists, so the plan shares nothing with the model."""
    if isinstance(value, dict):
        return {k: list(v) for k, v in value.items()}
    return list(value) if isinstance(value, list) else value
