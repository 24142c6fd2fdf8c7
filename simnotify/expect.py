"""Inline expectations: compare a call's outcome with what the scenario says it should be."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .plan import Call, OutcomeExpect
from .trace import TraceRecord
from .units import format_time
from .verdicts import Verdict


@dataclass(frozen=True, slots=True)
class InlineCheck:
    """One inline ``expect`` evaluated after its call completed."""

    ok: bool
    process: str
    call: str
    line: int
    t_us: int
    profile: str
    expected: Any
    actual: Any
    id: str | None = None
    #: False when the call never ran or never returned: a check that did not run fails
    reached: bool = True
    why: str = ""

    def message(self) -> str:
        """``12.000ms A: PeekMessage expected [...], got [...] (observed)``."""
        label = f" [{self.id}]" if self.id else ""
        head = f"{format_time(self.t_us)} {self.process}: {self.call}{label}"
        if not self.reached:
            return f"{self.process}: {self.call}{label} not reached: {self.why} ({self.profile})"
        if self.ok:
            return f"{head} -> {_show(self.actual)}"
        return f"{head} expected {_show(self.expected)}, got {_show(self.actual)} ({self.profile})"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _peek_matches(expected: list[Any], actual: list[Any], wparams: list[str]) -> bool:
    if len(expected) != len(actual):
        return False
    for exp, act, wp in zip(expected, actual, wparams, strict=False):
        text, _, want = str(exp).partition("@")
        if text != act or (want and want != wp):
            return False
    return True


def result_table(call: str, data: dict[str, Any]) -> dict[str, list[str]]:
    """A select or WSAPoll result as a table: the ready sets, or revents per descriptor
    (a set or descriptor left out is empty)."""
    if call == "select":
        return {k: list(data.get(k, ())) for k in ("read", "write", "except") if data.get(k)}
    return {k: list(v) for k, v in data.get("revents", {}).items()}


def _tables_match(expected: dict[str, Any], actual: dict[str, list[str]]) -> bool:
    keys = set(expected) | set(actual)
    return all(sorted(expected.get(k, ())) == sorted(actual.get(k, ())) for k in keys)


def matches(call: str, expected: Any, actual: Any, data: dict[str, Any]) -> bool:
    """Whether ``actual`` satisfies ``expected`` for this kind of call.

    WSAEnumNetworkEvents returns a bit mask, so its lists compare as sets; PeekMessage
    returns a queue, so its lists compare in order (with optional ``@wparam``).
    """
    if isinstance(expected, dict):
        return isinstance(actual, dict) and _tables_match(expected, actual)
    if isinstance(expected, list) and isinstance(actual, list):
        if call == "WSAEnumNetworkEvents":
            return sorted(map(str, expected)) == sorted(map(str, actual))
        if call == "PeekMessage":
            return _peek_matches(expected, actual, list(data.get("wparam", [])))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def check_inline(
    process: str,
    call: Call,
    expected: Any,
    out: tuple[Any, str | None],
    data: dict[str, Any],
    t_us: int,
    profile: str,
) -> InlineCheck:
    """Evaluate one inline expectation against a call outcome (result, error name)."""
    result, error = out
    actual = error if error is not None else result
    if isinstance(expected, dict) and error is None:
        actual = result_table(call.name, data)
    ok = matches(call.name, expected, actual, data)
    return InlineCheck(ok, process, call.name, call.line, t_us, profile, expected, actual, call.id)


class InlineChecks:
    """Checks each call's inline ``expect`` as the call returns (the engine's expect hook).

    ``calls`` is whatever holds the call's own trace record as ``last_call`` (the run's
    tracer), for facts its result does not hold (a PeekMessage's wParams)."""

    __slots__ = ("calls", "items", "profile", "reached")

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.items: list[InlineCheck] = []
        self.reached: set[int] = set()  # id() of every call whose expectation was checked
        self.calls: Any = None

    def __call__(self, proc: Any, call: Call, out: tuple[Any, str | None]) -> None:
        assert call.expect is not None
        self.reached.add(id(call))
        applies, expected = call.expect.for_profile(self.profile)
        if not applies:
            return
        rec: TraceRecord | None = self.calls.last_call if self.calls is not None else None
        data = rec.data if rec is not None and rec.data else {}
        t_us = rec.t_us if rec is not None else 0
        who = call.actor or proc.label  # ``A``, or the thread or library object (``A/io``)
        self.items.append(check_inline(who, call, expected, out, data, t_us, self.profile))


def not_reached(process: str, call: Call, profile: str, t_us: int, why: str) -> InlineCheck | None:
    """The failure of an inline expectation whose call never returned, if it applies."""
    if call.expect is None:
        return None
    applies, expected = call.expect.for_profile(profile)
    if not applies:
        return None
    return InlineCheck(
        False, process, call.name, call.line, t_us, profile, expected, None, call.id, False, why
    )


@dataclass(frozen=True, slots=True)
class OutcomeCheck:
    """One ``[[expect]]`` table evaluated after the run."""

    ok: bool
    line: int
    profile: str
    text: str

    def message(self) -> str:
        """What was claimed and, when it failed, what was found instead."""
        return self.text


#: One line of a run's verdict tally: (kind, process, socket, event, how many).
Row = tuple[str, str, str | None, str | None, int]


def tally(verdicts: list[Verdict], delivered: Counter[tuple[str, str, str]] | None) -> list[Row]:
    """Verdicts as rows; ``delivered`` adds the delivered occurrences a streamed run
    counted instead of keeping."""
    rows: list[Row] = [(v.kind, v.process, v.socket, v.event, 1) for v in verdicts]
    if delivered:
        rows += [("delivered", p, s, e, n) for (p, s, e), n in delivered.items()]
    return rows


def _matching(rows: list[Row], exp: OutcomeExpect, sockets: dict[str, str]) -> list[Row]:
    sock = sockets.get(f"{exp.socket[0]}.{exp.socket[1]}") if exp.socket else None
    return [
        r
        for r in rows
        if (exp.process is None or r[1] == exp.process) and (exp.socket is None or r[2] == sock)
    ]


def _summary(found: list[Row]) -> str:
    counts: dict[str, int] = {}
    for kind, process, _, event, n in found:
        label = f"{kind} {event or ''} for {process}".replace("  ", " ")
        counts[label] = counts.get(label, 0) + n
    return ", ".join(f"{k} x{n}" for k, n in counts.items()) or "no verdicts"


def _scope(exp: OutcomeExpect) -> str:
    parts = []
    if exp.process:
        parts.append(f"for {exp.process}")
    if exp.socket:
        parts.append(f"on {exp.socket[0]}.{exp.socket[1]}")
    return (" " + " ".join(parts)) if parts else ""


def _one(
    exp: OutcomeExpect,
    verdicts: list[Verdict],
    rows: list[Row],
    received: dict[str, int],
    blocked: dict[str, str | None],
    sockets: dict[str, str],
) -> tuple[bool, str]:
    if exp.kind == "blocked":
        what = blocked.get(exp.value)
        text = f"{exp.value} is still waiting at the end"
        return what is not None, f"{text} (in {what})" if what else f"{text}: it is not"
    if exp.kind == "received":
        got = received.get(exp.process or "", 0)
        text = f"{exp.process} received {exp.value} bytes"
        return got == exp.value, text if got == exp.value else f"{text}: got {got}"
    if exp.kind == "hang":
        ok = any(r[0] == "hang" and r[1] == exp.value for r in rows)
        found = [r for r in rows if r[1] == exp.value and r[0] in ("hang", "lost")]
        return ok, f"{exp.value} hangs" + ("" if ok else f": found {_summary(found)}")
    if exp.kind == "stall":
        ok = any(r[0] == "stall" and r[1] == exp.value for r in rows)
        found = [r for r in rows if r[1] == exp.value and r[0] in ("stall", "hang", "lost")]
        return ok, f"{exp.value} stalls" + ("" if ok else f": found {_summary(found)}")
    if exp.kind == "undefined":
        ok = any(r[0] == "undefined" and r[1] == exp.value for r in rows)
        text = f"{exp.value} makes a call with undefined behaviour"
        return (
            ok,
            text if ok else f"{text}: found {_summary([r for r in rows if r[1] == exp.value])}",
        )
    scoped = _matching(rows, exp, sockets)
    if exp.kind == "none":
        sock = sockets.get(f"{exp.socket[0]}.{exp.socket[1]}") if exp.socket else None
        bad = [
            v
            for v in verdicts
            if v.kind == exp.value
            and (exp.process is None or v.process == exp.process)
            and (exp.socket is None or v.socket == sock)
        ]
        text = f"no {exp.value} verdict{_scope(exp)}"
        return not bad, text if not bad else f"{text}: found " + "; ".join(v.text() for v in bad)
    hits = sum(r[4] for r in scoped if r[0] == exp.kind and r[3] == exp.value)
    want = f"{exp.value} {exp.kind}{_scope(exp)}"
    if exp.count is not None:
        ok = hits == exp.count
        want += f" exactly {exp.count} time(s)"
    else:
        ok = hits > 0
    if ok:
        return True, want
    related = [r for r in scoped if r[3] == exp.value]
    return False, f"{want}: found {_summary(related)}"


def check_outcomes(
    expects: tuple[OutcomeExpect, ...],
    verdicts: list[Verdict],
    received: dict[str, int],
    blocked: dict[str, str | None],
    sockets: dict[str, str],
    profile: str,
    delivered: Counter[tuple[str, str, str]] | None = None,
) -> list[OutcomeCheck]:
    """Evaluate the ``[[expect]]`` tables that apply under ``profile``."""
    mine = [exp for exp in expects if exp.profile is None or exp.profile == profile]
    if not mine:  # the verdicts of a long run are many: no rows made for nothing
        return []
    rows = tally(verdicts, delivered)
    checks = []
    for exp in mine:
        ok, text = _one(exp, verdicts, rows, received, blocked, sockets)
        checks.append(OutcomeCheck(ok, exp.line, profile, text))
    return checks
