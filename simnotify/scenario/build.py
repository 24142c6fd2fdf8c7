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
    MAIN_THREAD,
    Call,
    ConnectionPlan,
    Expect,
    Jitter,
    NetworkPlan,
    OutcomeExpect,
    Plan,
    ProcessPlan,
    Step,
    ThreadPlan,
    label,
)
from ..units import parse_jitter, parse_time
from ..winsock import EVENT_NAMES, POLL_REQUESTS
from .checks import check
from .errors import Path, ScenarioError
from .fields import per_profile, split_endpoint
from .load import DEFAULT_LIMITS
from .model import CallModel, Outcome, Process, Scenario, Thread

#: A path's line in the source file.
_Lines = Callable[[Path], int]
#: Model fields that describe the call rather than being its arguments.
_NOT_ARGS = frozenset({"call", "expect", "id", "at", "process", "jitter", "thread", "actor"})
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
        processes=tuple(_process(line, name, p) for name, p in sc.processes.items()),
        steps=tuple(
            Step(
                times[i],
                sc.steps[i].process,
                _call(line, sc.steps[i], ("steps", i), sc.steps[i].process),
                _jitter(sc.steps[i].jitter),
                sc.steps[i].thread or MAIN_THREAD,
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
                value=_who(sc, o, getattr(o, o.kind)) if o.kind in _WHO else getattr(o, o.kind),
                process=_who(sc, o, o.process),
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


#: ``[[expect]]`` claims whose value names who (a process, or with thread/actor a label).
_WHO = frozenset({"hang", "blocked", "undefined"})


def _who(sc: Scenario, o: Outcome, process: str | None) -> str | None:
    """An outcome's process as verdicts name it: ``A``, or ``A/io`` / ``A/gsock1``."""
    if process is None:
        return None
    if o.actor is not None:
        return f"{process}/{o.actor}"
    if o.thread is not None:
        p = sc.processes.get(process)
        return label(process, o.thread, p is not None and bool(p.threads))
    return process


def _process(line: _Lines, name: str, process: Process) -> ProcessPlan:
    base: Path = ("processes", name)
    handle_time = None if process.handle_time is None else _us(process.handle_time)
    threads = tuple(
        ThreadPlan(
            t,
            thread.loop,
            None if thread.handle_time is None else _us(thread.handle_time),
            _handlers(line, name, thread.on, (*base, "threads", t), t),
            thread.actor,
            line((*base, "threads", t)),
            _select_sets(thread),
        )
        for t, thread in process.threads.items()
    )
    handlers = _handlers(line, name, process.on, base, MAIN_THREAD)
    return ProcessPlan(
        name,
        process.loop,
        handle_time,
        handlers,
        line(base),
        _select_sets(process),
        threads,
        process.actor,
    )


def _select_sets(thread: Thread) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A select loop's sets as the plan holds them."""
    sets = thread.select
    return (tuple(sets.read), tuple(sets.write), tuple(sets.except_)) if sets else ((), (), ())


def _handlers(
    line: _Lines, name: str, on: dict[str, list[CallModel]], base: Path, thread: str
) -> dict[str, tuple[Call, ...]]:
    return {
        key: tuple(_call(line, c, (*base, "on", key, j), name, thread) for j, c in enumerate(calls))
        for key, calls in on.items()
    }


@cache
def _arg_fields(model: type[CallModel]) -> tuple[tuple[str, str], ...]:
    """(attribute, file key) of each field of a call model that is an argument."""
    return tuple(
        (field_name, field.alias or field_name)
        for field_name, field in model.model_fields.items()
        if (field.alias or field_name) not in _NOT_ARGS
    )


def _call(
    line: _Lines, call: CallModel, path: Path, process: str, running: str | None = None
) -> Call:
    """One call; ``running`` is the thread whose handler holds it (None: a step, which
    runs where its ``thread`` says)."""
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
    thread = call.thread if running is not None and call.thread not in (None, running) else None
    actor = f"{process}/{call.actor}" if call.actor is not None else None
    return Call(name, args, line(path), expect, call.id, thread, actor)


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
