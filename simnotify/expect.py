"""Inline expectations: compare a call's outcome with what the scenario says it should be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .oracle import Verdict
from .plan import Call, OutcomeExpect
from .units import format_time


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


def matches(call: str, expected: Any, actual: Any, data: dict[str, Any]) -> bool:
    """Whether ``actual`` satisfies ``expected`` for this kind of call.

    WSAEnumNetworkEvents returns a bit mask, so its lists compare as sets; PeekMessage
    returns a queue, so its lists compare in order (with optional ``@wparam``).
    """
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
    ok = matches(call.name, expected, actual, data)
    return InlineCheck(ok, process, call.name, call.line, t_us, profile, expected, actual, call.id)


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


def _matching(
    verdicts: list[Verdict], exp: OutcomeExpect, sockets: dict[str, str]
) -> list[Verdict]:
    sock = sockets.get(f"{exp.socket[0]}.{exp.socket[1]}") if exp.socket else None
    return [
        v
        for v in verdicts
        if (exp.process is None or v.process == exp.process)
        and (exp.socket is None or v.socket == sock)
    ]


def _summary(found: list[Verdict]) -> str:
    counts: dict[str, int] = {}
    for v in found:
        label = f"{v.kind} {v.event or ''} for {v.process}".replace("  ", " ")
        counts[label] = counts.get(label, 0) + 1
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
    scoped = _matching(verdicts, exp, sockets)
    if exp.kind == "hang":
        ok = any(v.kind == "hang" and v.process == exp.value for v in verdicts)
        found = [v for v in verdicts if v.process == exp.value and v.kind in ("hang", "lost")]
        return ok, f"{exp.value} hangs" + ("" if ok else f": found {_summary(found)}")
    if exp.kind == "none":
        bad = [v for v in scoped if v.kind == exp.value]
        text = f"no {exp.value} verdict{_scope(exp)}"
        return not bad, text if not bad else f"{text}: found " + "; ".join(v.text() for v in bad)
    hits = [v for v in scoped if v.kind == exp.kind and v.event == exp.value]
    want = f"{exp.value} {exp.kind}{_scope(exp)}"
    if exp.count is not None:
        ok = len(hits) == exp.count
        want += f" exactly {exp.count} time(s)"
    else:
        ok = bool(hits)
    if ok:
        return True, want
    related = [v for v in scoped if v.event == exp.value]
    return False, f"{want}: found {_summary(related)}"


def check_outcomes(
    expects: tuple[OutcomeExpect, ...],
    verdicts: list[Verdict],
    received: dict[str, int],
    blocked: dict[str, str | None],
    sockets: dict[str, str],
    profile: str,
) -> list[OutcomeCheck]:
    """Evaluate the ``[[expect]]`` tables that apply under ``profile``."""
    checks = []
    for exp in expects:
        if exp.profile is None or exp.profile == profile:
            ok, text = _one(exp, verdicts, received, blocked, sockets)
            checks.append(OutcomeCheck(ok, exp.line, profile, text))
    return checks
