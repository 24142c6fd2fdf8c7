"""Text output: the timeline of a run, expectation results, and profile differences."""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher

from .describe import ARROW, call_text, fmt_value, record_text
from .runs import Run, Traced
from .trace import Kind, TraceRecord, who
from .units import format_time
from .verdicts import FINDINGS, ORDER, OUTCOMES, Verdict

_SOCKET_LEVEL = (Kind.OCCUR, Kind.SUPPRESS, Kind.FREE)


def actor(rec: TraceRecord) -> str:
    """The timeline's second column: the process concerned (the thread or library object
    of it that acted: ``A/io``), else the socket."""
    if rec.kind in _SOCKET_LEVEL or rec.process is None:
        return rec.socket or "-"
    return who(rec)


def timeline(result: Traced) -> list[str]:
    """The run as aligned lines: time, actor, what happened."""
    recs = result.trace
    width = max((len(actor(r)) for r in recs), default=4)
    width = max(width, 4)
    return [f"{format_time(r.t_us):>12}  {actor(r):<{width}}  {record_text(r)}" for r in recs]


def expectation_lines(result: Run, source: str, every: bool = True) -> list[str]:
    """Each expectation with ok/FAIL and ``FILE:LINE``, then a count."""
    lines: list[str] = []
    entries = [(c.ok, c.line, c.message()) for c in result.checks]
    entries += [(c.ok, c.line, c.message()) for c in result.outcomes]
    for ok, line, text in entries:
        if every or not ok:
            lines.append(f"  {'ok  ' if ok else 'FAIL'}  {source}:{line}: {text}")
    if entries:
        lines.insert(0, f"expectations ({result.profile}): {expectation_counts(result)}")
    return lines


def expectation_counts(result: Run) -> str:
    """``9 held, all held`` or ``7 held, 1 failed, 1 not reached``."""
    checks = [*result.checks, *result.outcomes]
    unreached = sum(1 for c in result.checks if not c.reached)
    failed = sum(1 for c in checks if not c.ok) - unreached
    held = len(checks) - failed - unreached
    parts = [f"{failed} failed"] if failed else []
    parts += [f"{unreached} not reached"] if unreached else []
    return f"{held} held, {', '.join(parts) or 'all held'}"


def taken_lines(result: Run) -> list[str]:
    """Per process, the notifications it consumed: makes 'A got nothing' explicit."""
    counts = result.taken_counts()
    lines = []
    names = list(result.ends)
    names += sorted({p for p, _ in counts if p not in result.ends})  # library objects
    for name in names:
        got = [f"{e} x{n:,}" for (p, e), n in sorted(counts.items()) if p == name]
        lines.append(f"  {name:<12} {', '.join(got) if got else 'nothing'}")
    return ["notifications taken:", *lines]


def deliveries(result: Run) -> Counter[tuple[str, str]]:
    """How many notifications each process consumed, per FD_ event."""
    return result.taken_counts()


def _call_outcomes(result: Traced) -> list[tuple[str, str, str]]:
    out = []
    for r in result.trace:
        if r.kind is Kind.CALL and r.call != "WSAWaitForMultipleEvents":
            value = r.error if r.error is not None else fmt_value(r.result)
            out.append((r.process or "-", call_text(r).split(f" {ARROW} ")[0], value))
    return out


def _call_diff(a: Traced, b: Traced, limit: int = 20) -> list[str]:
    """Calls aligned by who made them and how; results that differ, calls made in one only."""
    ca, cb = _call_outcomes(a), _call_outcomes(b)
    matcher = SequenceMatcher(None, [c[:2] for c in ca], [c[:2] for c in cb], autojunk=False)
    lines: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lines += [
                f"  {x[0]}: {x[1]}: {x[2]} | {y[2]}"
                for x, y in zip(ca[i1:i2], cb[j1:j2], strict=True)
                if x[2] != y[2]
            ]
            continue
        lines += [f"  {x[0]}: {x[1]} -> {x[2]} | (not called)" for x in ca[i1:i2]]
        lines += [f"  {y[0]}: {y[1]} | (not called) -> {y[2]}" for y in cb[j1:j2]]
    if not lines:
        return []
    more = f" (first {limit} of {len(lines)})" if len(lines) > limit else ""
    return [f"calls whose results differ ({a.profile} | {b.profile}){more}:", *lines[:limit]]


def differences(a: Traced, b: Traced) -> list[str]:
    """Where two runs of one scenario (two profiles) differ, as aligned lines."""
    lines: list[str] = []
    da, db = deliveries(a), deliveries(b)
    keys = sorted(set(da) | set(db))
    changed = [(p, e) for p, e in keys if da[(p, e)] != db[(p, e)]]
    if changed:
        lines.append(f"notifications taken ({a.profile} vs {b.profile}):")
        for p, e in changed:
            lines.append(f"  {p:<12} {e:<12} {da[(p, e)]:>4} vs {db[(p, e)]:>4}")
    waiting = [
        (name, a.ends[name].blocked, b.ends[name].blocked)
        for name in a.ends
        if name in b.ends and a.ends[name].blocked != b.ends[name].blocked
    ]
    if waiting:
        lines.append(f"still waiting at the end ({a.profile} | {b.profile}):")
        lines += [f"  {name:<12} {wa or '-'} | {wb or '-'}" for name, wa, wb in waiting]
    lines += _call_diff(a, b)
    return lines or [
        f"{a.profile} and {b.profile}: the same notifications taken, the same calls' "
        "results, the same processes waiting at the end (the traces may still differ)"
    ]


def verdict_lines(result: Run) -> list[str]:
    """The verdict summary: counts, then one line per finding."""
    counts = result.verdict_counts()
    summary = ", ".join(f"{counts[k]:,} {k}" for k in ORDER if counts[k]) or "no verdicts"
    lines = [f"verdicts: {summary}"]
    for v in result.verdicts:
        if v.kind in FINDINGS:
            lines.append(f"  {v.kind:<8}  {v.text()}")
    return lines


def _verdict_table(result: Traced) -> dict[tuple[str, str], Counter[str]]:
    table: dict[tuple[str, str], Counter[str]] = {}
    for v in result.verdicts:
        if v.kind not in OUTCOMES:
            continue
        key = (v.process, v.event or "-")
        table.setdefault(key, Counter())[v.kind] += 1
    return table


def _cell(counts: Counter[str] | None) -> str:
    if not counts:
        return "-"
    return ", ".join(f"{k} x{n}" for k, n in sorted(counts.items()))


def verdict_differences(a: Traced, b: Traced) -> list[str]:
    """Verdicts that differ between two profiles, side by side, per process and event."""
    ta, tb = _verdict_table(a), _verdict_table(b)
    rows = [
        (proc, ev, _cell(ta.get((proc, ev))), _cell(tb.get((proc, ev))))
        for proc, ev in sorted(set(ta) | set(tb))
        if ta.get((proc, ev)) != tb.get((proc, ev))
    ]
    if not rows:
        return [f"verdicts: the same under {a.profile} and {b.profile}"]
    wa = max(len(a.profile), *(len(r[2]) for r in rows))
    lines = [f"{'verdicts that differ:':<26}{a.profile:<{wa}}  | {b.profile}"]
    for proc, ev, ca, cb in rows:
        lines.append(f"  {proc:<12} {ev:<10} {ca:<{wa}}  | {cb}")
    for res in (a, b):
        for v in res.verdicts:
            if v.kind == "lost" and ta.get((v.process, v.event or "-")) != tb.get(
                (v.process, v.event or "-")
            ):
                lines.append(f"  {res.profile}: {v.text()}")
    return lines


def verdicts_json(result: Run) -> dict[str, object]:
    """One run's outcome for scripts: profile, ok, verdicts, failed expectations."""
    found: list[Verdict] = result.verdicts
    return {
        "scenario": result.plan.name,
        "source": result.plan.source,
        "profile": result.profile,
        "ok": result.ok,
        "verdicts": [v.to_dict() for v in found],
        "failures": [
            {
                "line": c.line,
                "reached": getattr(c, "reached", True),
                "message": c.message(),
            }
            for c in result.failures
        ],
    }
