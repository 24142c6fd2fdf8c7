"""Text output: the timeline of a run, expectation results, and profile differences."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

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


def expectation_tally(result: Run) -> tuple[int, int, int]:
    """How many expectations held, failed, and were never reached (their call never
    returned)."""
    checks = [*result.checks, *result.outcomes]
    unreached = sum(1 for c in result.checks if not c.reached)
    failed = sum(1 for c in checks if not c.ok) - unreached
    return len(checks) - failed - unreached, failed, unreached


def expectation_counts(result: Run) -> str:
    """``9 held, all held`` or ``7 held, 1 failed, 1 not reached``."""
    held, failed, unreached = expectation_tally(result)
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


#: One call as the comparison sees it: (process, call without result, result, when, position).
_Outcome = tuple[str, str, str, int, int]
#: How far ahead the comparison looks for the next call both runs made after a mismatch.
WINDOW = 32


def _call_outcomes(result: Traced) -> dict[str, list[_Outcome]]:
    """Each process's calls in order (its own waits left out), with their results."""
    out: dict[str, list[_Outcome]] = {}
    for i, r in enumerate(result.trace):
        if r.kind is Kind.CALL and r.call != "WSAWaitForMultipleEvents":
            value = r.error if r.error is not None else fmt_value(r.result)
            proc = r.process or "-"
            calls = out.get(proc)
            if calls is None:
                calls = out[proc] = []
            calls.append((proc, call_text(r).split(f" {ARROW} ")[0], value, r.t_us, i))
    return out


def align(
    xs: list[_Outcome], ys: list[_Outcome], window: int = WINDOW
) -> Iterator[tuple[_Outcome | None, _Outcome | None]]:
    """Pair two call sequences: equal calls side by side, a call made in one run only with
    None; linear in their length. After a mismatch it resumes at the nearest pair of
    equal calls within ``window`` of both, or, with none there, gives up the window on
    both sides."""
    i = j = 0
    n, m = len(xs), len(ys)
    while i < n and j < m:
        if xs[i][1] == ys[j][1]:
            yield xs[i], ys[j]
            i += 1
            j += 1
            continue
        first: dict[str, int] = {}
        for d in range(min(window, n - i)):
            first.setdefault(xs[i + d][1], d)
        skip_x, skip_y = min(window, n - i), min(window, m - j)
        for e in range(skip_y):
            at = first.get(ys[j + e][1])
            if at is not None and at + e < skip_x + skip_y:
                skip_x, skip_y = at, e
        for x in xs[i : i + skip_x]:
            yield x, None
        for y in ys[j : j + skip_y]:
            yield None, y
        i += skip_x
        j += skip_y
    for x in xs[i:]:
        yield x, None
    for y in ys[j:]:
        yield None, y


def _call_diff(a: Traced, b: Traced, limit: int = 20) -> list[str]:
    """Each process's calls aligned by what they were; results that differ and calls made
    in one run only, in time order. Linear in the traces' length."""
    ca, cb = _call_outcomes(a), _call_outcomes(b)
    found: list[tuple[int, int, int, str]] = []  # (when, side, position, line)
    for proc in {**ca, **cb}:
        for x, y in align(ca.get(proc, []), cb.get(proc, [])):
            if x is None and y is not None:
                found.append((y[3], 1, y[4], f"  {y[0]}: {y[1]} | (not called) -> {y[2]}"))
            elif x is not None and y is None:
                found.append((x[3], 0, x[4], f"  {x[0]}: {x[1]} -> {x[2]} | (not called)"))
            elif x is not None and y is not None and x[2] != y[2]:
                found.append((x[3], 0, x[4], f"  {x[0]}: {x[1]}: {x[2]} | {y[2]}"))
    if not found:
        return []
    found.sort(key=lambda f: f[:3])
    lines = [f[3] for f in found]
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


def end_lines(result: Run) -> list[str]:
    """The processes still waiting when the run ended, and in what."""
    blocked = [f"{e.name} ({e.blocked})" for e in result.ends.values() if e.blocked]
    return [f"still waiting at the end: {', '.join(blocked)}"] if blocked else []


def heading(result: Run) -> str:
    """The line a run's report starts with."""
    plan = result.plan
    return f"== {plan.title or plan.name} [{plan.name}] under {result.profile}"


def summary_lines(result: Run, every: bool = True) -> list[str]:
    """What a run came to: notifications taken, verdicts, who waits at the end, and the
    expectations (``every`` one, or only those that did not hold)."""
    return (
        taken_lines(result)
        + verdict_lines(result)
        + end_lines(result)
        + expectation_lines(result, result.plan.source, every=every)
    )


def text(result: Traced) -> str:
    """A run's report as ``simnotify run`` prints it: the timeline, then the summary."""
    return "\n".join([heading(result), *timeline(result), *summary_lines(result)])


def files_summary(files: int, results: Iterable[Run]) -> str:
    """The one line a run of several files ends with:
    ``22 files, 180 expectations held, 1 failed, 1 not reached``."""
    held = failed = unreached = 0
    for result in results:
        h, f, u = expectation_tally(result)
        held, failed, unreached = held + h, failed + f, unreached + u
    return (
        f"{files} file{'s' if files != 1 else ''}, {held} expectation{'s' if held != 1 else ''}"
        f" held, {failed} failed, {unreached} not reached"
    )
