"""Compare simnotify's steps with a transcript's replies.

A reply is normalised to the same ``Outcome`` shape as simnotify's result for that step,
then the two are compared the way the step's ``kind`` says (``script.Step``). Times are
never compared, nor byte counts that depend on buffer sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..winsock import ERROR_NAMES
from .script import Outcome, Step

#: Reply words that are not results: the coordinator's own.
TRANSPORT = frozenset({"TIMEOUT", "SKIPPED", "BAD", "STARTED"})


@dataclass(frozen=True, slots=True)
class Compared:
    """One step with the other side's outcome and whether the two agree."""

    step: Step
    other: Outcome
    agrees: bool


def _error_name(code: str) -> str:
    try:
        number = int(code)
    except ValueError:
        return code
    return ERROR_NAMES.get(number, code) if number else ""


def _bits(items: str) -> list[tuple[str, str]]:
    """``FD_READ:0,FD_CLOSE:10053`` -> [(FD_READ, ""), (FD_CLOSE, WSAECONNABORTED)]."""
    if items in ("-", ""):
        return []
    out = []
    for item in items.split(","):
        name, _, err = item.partition(":")
        out.append((name, _error_name(err) if err else ""))
    return out


def _with_error(name: str, err: str) -> str:
    return f"{name}:{err}" if err else name


def _message(token: str) -> tuple[str, str]:
    """``w:FD_CLOSE:10053@server`` -> (``w``, ``FD_CLOSE:WSAECONNABORTED@server``)."""
    body, _, wparam = token.rpartition("@")
    window, _, rest = body.partition(":")
    name, _, err = rest.partition(":")
    return window, f"{_with_error(name, _error_name(err) if err else '')}@{wparam}"


def outcome_of(reply: str | None, step: Step) -> Outcome:
    """The interpreter's reply as an Outcome comparable with the step's expected one."""
    if reply is None:
        return Outcome("SKIPPED", "no reply")
    word, _, rest = reply.partition(" ")
    if word in TRANSPORT:
        if word == "TIMEOUT" and step.expected.status == "blocked":
            return Outcome("blocked")
        return Outcome(word, rest or None)
    if word == "ERR":
        code = rest.split(" ", 1)[0]
        if step.call == "DestroyWindow":
            return Outcome("WSAEINVAL")  # any failure: simnotify calls a dead window WSAEINVAL
        return Outcome(_error_name(code) or code)
    if word != "OK":
        return Outcome("BAD", reply)
    value = rest.split(" ", 1)[0]
    kind = step.kind
    if kind in ("count", "some"):
        return Outcome("ok", int(value))
    if kind == "set":
        return Outcome("ok", frozenset(_with_error(n, e) for n, e in _bits(value)))
    if kind == "list":
        entries = () if value in ("-", "") else tuple(_message(t)[1] for t in value.split(","))
        return Outcome("ok", entries)
    if kind == "take":
        if value in ("-", ""):
            return Outcome("ok", "-")
        window, entry = _message(value)
        return Outcome("ok", f"{window}:{entry}")
    if kind == "wait":
        return Outcome("ok", "WSA_WAIT_TIMEOUT" if value == "TIMEOUT" else int(value))
    if kind == "signalled":
        return Outcome("ok", "WSA_WAIT_TIMEOUT" if value == "TIMEOUT" else "signalled")
    if kind == "value":
        return Outcome("ok", value)
    if step.expected.status == "blocked":
        return Outcome("ok", "completed")
    return Outcome("ok", None)


def agrees(step: Step, expected: Outcome, other: Outcome) -> bool:
    """Whether two outcomes of one step agree, as the step's kind compares them."""
    if expected.status != other.status:
        return False
    if expected.status != "ok":
        return True
    if step.kind == "unsized" or step.kind == "status":
        return True
    if step.kind == "some":
        return bool((expected.value == 0) == (other.value == 0))
    return bool(expected.value == other.value)


def compare_steps(steps: list[Step], replies: dict[str, str]) -> list[Compared]:
    """Each step with the reply to its id's line (``replies``: step id -> reply)."""
    out = []
    for step in steps:
        other = outcome_of(replies.get(step.id), step)
        out.append(Compared(step, other, agrees(step, step.expected, other)))
    return out
