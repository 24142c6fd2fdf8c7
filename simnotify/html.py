"""HTML summaries of runs, comparisons and sweeps, as notebooks show them (``_repr_html_``).

Everything shown comes from the same functions as the terminal report (report.py), laid
out as small tables: what a reader of a notebook looks for first (the findings and their
causes, what each process took, the expectations that did not hold, who is still waiting)
above a compact timeline that opens on a click.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING

from .describe import record_text
from .report import actor, expectation_counts, verdict_differences
from .units import format_time
from .verdicts import FINDINGS, KINDS, ORDER

if TYPE_CHECKING:
    from .runs import Run, Traced
    from .sweep import SweepResult

#: Timeline rows shown before the rest is left to ``print(res)``.
TIMELINE_ROWS = 60

_TABLE = 'style="border-collapse:collapse;margin:0.2em 0 0.6em 0;font-size:90%"'
_CELL = 'style="text-align:left;padding:1px 8px;vertical-align:top"'
_HEAD = 'style="text-align:left;padding:1px 8px;border-bottom:1px solid #999"'
_OK, _BAD = "#2ca02c", "#d62728"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table of already escaped cells."""
    out = [f"<table {_TABLE}><tr>"]
    out += [f"<th {_HEAD}>{h}</th>" for h in head]
    out.append("</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td {_CELL}>{c}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _badge(ok: bool, text: str) -> str:
    colour = _OK if ok else _BAD
    return f'<span style="color:{colour};font-weight:bold">{escape(text)}</span>'


def _kind(name: str) -> str:
    colour = KINDS[name].colour if name in KINDS else "inherit"
    return f'<span style="color:{colour};font-weight:bold">{escape(name)}</span>'


def verdict_table(result: Run) -> str:
    """The verdicts counted per kind, then each finding with its cause."""
    counts = result.verdict_counts()
    summary = ", ".join(f"{counts[k]:,} {k}" for k in ORDER if counts[k]) or "no verdicts"
    findings = [v for v in result.verdicts if v.kind in FINDINGS]
    rows = [
        (_kind(v.kind), escape(v.process), escape(v.event or ""), escape(v.text()))
        for v in findings
    ]
    table = _table(("finding", "process", "event", "what and why"), rows) if rows else ""
    return f"<div><b>verdicts:</b> {escape(summary)}</div>{table}"


def taken_table(result: Run) -> str:
    """Per process: the notifications it took, and how it ended."""
    counts = result.taken_counts()
    rows = []
    for name, end in result.ends.items():
        taken = sorted((ev, n) for (p, ev), n in counts.items() if p == name)
        took = ", ".join(f"{ev} x{n}" for ev, n in taken) or "<i>nothing</i>"
        if end.blocked:
            state = f'<span style="color:{_BAD}">still waiting in {escape(end.blocked)}</span>'
        elif end.exited:
            state = "exited"
        else:
            state = "idle"
        rows.append((escape(name), took, state, f"{end.received:,}"))
    return _table(("process", "notifications taken", "at the end", "bytes received"), rows)


def expectation_table(result: Run) -> str:
    """The count of expectations, and each one that failed or was never reached."""
    held = _badge(result.ok, expectation_counts(result))
    rows = [
        (_badge(False, "FAIL"), f"{escape(result.plan.source)}:{c.line}", escape(c.message()))
        for c in result.failures
    ]
    table = _table(("", "where", "expectation"), rows) if rows else ""
    return f"<div><b>expectations ({escape(result.profile)}):</b> {held}</div>{table}"


def timeline_table(result: Traced, limit: int = TIMELINE_ROWS) -> str:
    """The first ``limit`` happenings, folded away under a summary line."""
    trace = result.trace
    rows = [(format_time(r.t_us), escape(actor(r)), escape(record_text(r))) for r in trace[:limit]]
    more = len(trace) - limit
    tail = (
        f"<div><i>… {more:,} more; <code>print(res)</code> shows them all</i></div>"
        if more > 0
        else ""
    )
    return (
        f"<details><summary>timeline: {len(trace):,} happenings</summary>"
        f"{_table(('time', 'who', 'what'), rows)}{tail}</details>"
    )


def heading(result: Run) -> str:
    plan = result.plan
    return (
        f"<div style='font-weight:bold'>{escape(plan.title or plan.name)} "
        f"<span style='font-weight:normal;color:#666'>[{escape(plan.name)}] under "
        f"{escape(result.profile)}</span></div>"
    )


def result_html(result: Traced, timeline: bool = True) -> str:
    """A run: heading, verdicts, notifications taken and end states, expectations, and
    (``timeline``) the compact timeline."""
    parts = [heading(result), verdict_table(result), taken_table(result)]
    parts.append(expectation_table(result))
    if timeline:
        parts.append(timeline_table(result))
    return f"<div>{''.join(parts)}</div>"


def comparison_html(observed: Traced, documented: Traced) -> str:
    """Both profiles side by side, then what differs between them."""
    cells = "".join(
        f'<td style="vertical-align:top;padding-right:2em">{result_html(r, timeline=False)}</td>'
        for r in (observed, documented)
    )
    differ = "<br>".join(escape(line) for line in verdict_differences(observed, documented))
    return (
        f'<table style="border-collapse:collapse"><tr>{cells}</tr></table>'
        f"<div><b>differences</b><pre style='margin:0.2em 0'>{differ}</pre></div>"
        f"{timeline_table(observed)}{timeline_table(documented)}"
    )


def sweep_html(sweep: SweepResult) -> str:
    """The sweep's table: per value, each outcome's probability, interval and example."""
    runs = sweep.rows[0].runs if sweep.rows else 0
    head = (
        f"<div><b>sweep</b> [{escape(sweep.scenario)}] under {escape(sweep.profile)}: "
        f"{runs:,} runs per value, seeds {sweep.seeds[0]}..{sweep.seeds[1]}</div>"
    )
    outcomes = sweep.outcomes()
    rows = []
    for row in sweep.rows:
        first = True
        for outcome in outcomes:
            p, low, high = row.probability(outcome)
            if not row.counts.get(outcome):
                continue
            seed = row.example.get(outcome)
            rows.append(
                (
                    escape(row.value) if first else "",
                    f"{_kind(outcome[0])} {escape(_who(outcome))}",
                    f"{p:.2f}",
                    f"{low:.2f}–{high:.2f}",
                    "" if seed is None else str(seed),
                )
            )
            first = False
        if first:
            rows.append((escape(row.value), "<i>nothing</i>", "", "", ""))
    name = escape(sweep.parameter or "value")
    return head + _table((name, "outcome", "P", "95% interval", "example seed"), rows)


def _who(outcome: tuple[str, str, str]) -> str:
    """An outcome's event and process, as ``label`` of sweep.py writes them after the kind."""
    _, process, event = outcome
    return f"{event} for {process}" if event != "-" else process
