"""Timeline pictures of a run: who owned each socket's registration, what happened, what
was lost and whose call caused it, and who is still waiting when the run ends.

Lanes: one per process (deliveries, blocked time, findings) and one per underlying socket,
named with its descriptors (registration ownership as coloured intervals, occurrences,
posts and signals). The time axis runs to the scenario's ``until``; when the activity ends
long before it, the quiet rest is drawn compressed behind a break, so a process still
waiting is seen waiting to the end. Findings are drawn from the verdict registry
(:data:`simnotify.verdicts.KINDS`) by what they are about: an occurrence (a cross on the
process's lane, numbered, its explanation listed beside the plot), a consumption (an open
mark), or a process at the end (a mark and its name at the end of the lane). Matplotlib
only; works headless (Agg).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from textwrap import fill
from typing import IO, TYPE_CHECKING, Any, TypeVar

from .trace import Kind, TraceRecord, who
from .verdicts import KINDS, Verdict, VerdictKind

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .runs import Traced

#: Beyond this many marks of one kind in one lane, marks are thinned to a density strip;
#: beyond this many intervals in one lane (registrations, blocked time), intervals closer
#: than 1/MAX_MARKS of the run are merged. A picture of a long run stays a few MB to draw.
MAX_MARKS = 400
#: Findings about occurrences numbered and explained beside the plot; further ones get the
#: mark only (the report lists them all).
MAX_LABELS = 12
#: When the activity ends before this fraction of ``until``, the rest is compressed.
BREAK_BEFORE = 0.6
#: The share of the axis the compressed rest takes.
REST_SHARE = 0.1
#: Points between two findings marked at the end of one process's lane.
END_LABEL_WIDTH = 48
#: Descriptors named on a socket's lane before ``+N`` stands for the rest.
MAX_DESCRIPTORS = 3

_PALETTE = ("#4C72B0", "#55A868", "#8172B2", "#CCB974", "#64B5CD", "#8C8C8C", "#937860")
_BLOCKED = "#c8c8c8"
_REGISTRATION_ALPHA = 0.35


@dataclass(frozen=True, slots=True)
class _Lane:
    key: str
    label: str
    y: float


@dataclass(frozen=True, slots=True)
class _Axis:
    """The time axis in ms: linear to ``last``, then (``broken``) compressed to ``until``."""

    last: float
    until: float
    broken: bool

    @property
    def end(self) -> float:
        return self.until

    def forward(self, x: Any) -> Any:
        import numpy as np

        x = np.asarray(x, dtype=float)
        if not self.broken:
            return x
        k = self.last * REST_SHARE / (1 - REST_SHARE) / (self.until - self.last)
        return np.where(x <= self.last, x, self.last + (x - self.last) * k)

    def inverse(self, x: Any) -> Any:
        import numpy as np

        x = np.asarray(x, dtype=float)
        if not self.broken:
            return x
        k = self.last * REST_SHARE / (1 - REST_SHARE) / (self.until - self.last)
        return np.where(x <= self.last, x, self.last + (x - self.last) / k)


def _axis(results: Sequence[Traced]) -> _Axis:
    """One time axis for ``results`` (stacked timelines share it)."""
    until = max(r.plan.until_us for r in results) / 1000
    last = max((rec.t_us for r in results for rec in r.trace), default=0) / 1000
    if until <= 0:
        until = max(last, 1.0)
    shown = _nice_above(last * 1.05) if last > 0 else until
    if shown >= BREAK_BEFORE * until:
        return _Axis(until, until, False)
    return _Axis(shown, until, True)


def _nice_above(x: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``x``."""
    from math import floor, log10

    base = 10.0 ** floor(log10(x))
    return next(base * m for m in (1.0, 2.0, 2.5, 5.0, 10.0) if base * m >= x)


def _owners(trace: list[TraceRecord]) -> dict[str, list[tuple[int, int | None, str, str]]]:
    """Per socket: (start, end, owner, label) intervals of the registration in effect."""
    out: dict[str, list[tuple[int, int | None, str, str]]] = defaultdict(list)
    for r in trace:
        if r.kind != "register" or not r.socket:
            continue
        spans = out[r.socket]
        if spans and spans[-1][1] is None:
            s0, _, owner, label = spans[-1]
            spans[-1] = (s0, r.t_us, owner, label)
        data = r.data or {}
        if data.get("owner"):
            mask = "|".join(m.removeprefix("FD_") for m in data.get("mask", []))
            spans.append((r.t_us, None, data["owner"], f"{data.get('mechanism')} {mask}"))
    return out


def _blocked(trace: list[TraceRecord]) -> dict[str, list[tuple[int, int | None]]]:
    """Per process: intervals from a ``block`` record to that process's next activity;
    ``None`` ends a wait still going on when the run ends."""
    out: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    open_at: dict[str, int] = {}
    for r in trace:
        if r.process is None:
            continue
        p = who(r)
        if r.kind == "block":
            open_at.setdefault(p, r.t_us)
        elif p in open_at and r.kind in ("call", "deliver"):
            out[p].append((open_at.pop(p), r.t_us))
    for p, t in open_at.items():
        out[p].append((t, None))
    return out


def descriptors(trace: list[TraceRecord]) -> dict[str, list[str]]:
    """Per underlying socket, its descriptors (``A.s``) in the order they appear."""
    out: dict[str, dict[str, None]] = defaultdict(dict)
    for r in trace:
        if r.socket and r.descriptor:
            out[r.socket][r.descriptor] = None
    return {s: list(d) for s, d in out.items()}


def _socket_label(sock: str, names: list[str]) -> str:
    if not names:
        return sock
    shown = ", ".join(names[:MAX_DESCRIPTORS])
    more = f", +{len(names) - MAX_DESCRIPTORS}" if len(names) > MAX_DESCRIPTORS else ""
    return f"{sock}: {shown}{more}"


def _lanes(result: Traced) -> list[_Lane]:
    # a lane per process or thread, then per library object that acted or has a verdict
    procs = list(result.ends)
    more = {who(r) for r in result.trace if r.process} | {v.process for v in result.verdicts}
    procs += sorted(more - set(procs) - {"-"})
    sockets = sorted({r.socket for r in result.trace if r.socket}, key=lambda s: int(s[1:]))
    names = descriptors(result.trace)
    lanes = [_Lane(f"P:{p}", p, float(i)) for i, p in enumerate(procs)]
    base = len(procs) + 0.5
    lanes += [
        _Lane(f"S:{s}", _socket_label(s, names.get(s, [])), base + i) for i, s in enumerate(sockets)
    ]
    return lanes


_T = TypeVar("_T")


def _thin(xs: list[_T]) -> list[_T]:
    """At most MAX_MARKS of ``xs``, evenly spread over them (marks or verdicts of a lane)."""
    if len(xs) <= MAX_MARKS:
        return xs
    step = len(xs) / MAX_MARKS
    return [xs[int(i * step)] for i in range(MAX_MARKS)]


Span = tuple[int, int | None, str, str]


def _merge_owners(spans: list[Span], end: int) -> list[Span]:
    """At most about MAX_MARKS registration intervals: consecutive ones of one owner
    become one (its label then says they were merged); if that is still too many, each
    1/MAX_MARKS of the run goes to the owner that held it longest there."""
    if len(spans) <= MAX_MARKS:
        return spans
    merged: list[Span] = []
    for start, stop, owner, label in spans:
        if merged and merged[-1][2] == owner and merged[-1][1] == start:
            s0, _, _, first = merged[-1]
            merged[-1] = (s0, stop, owner, first if first == label else MERGED)
        else:
            merged.append((start, stop, owner, label))
    if len(merged) <= MAX_MARKS:
        return merged
    width = max(1, -(-end // MAX_MARKS))
    held: list[dict[str, int]] = [{} for _ in range(MAX_MARKS + 1)]
    for start, stop, owner, _ in merged:
        stop = end if stop is None else stop
        for b in range(start // width, min(stop // width, MAX_MARKS) + 1):
            lo, hi = max(start, b * width), min(stop, (b + 1) * width)
            if hi > lo:
                held[b][owner] = held[b].get(owner, 0) + hi - lo
    out: list[Span] = []
    for b, owners in enumerate(held):
        if not owners:
            continue
        owner = max(owners, key=lambda o: (owners[o], o))
        if out and out[-1][2] == owner and out[-1][1] == b * width:
            out[-1] = (out[-1][0], (b + 1) * width, owner, MERGED)
        else:
            out.append((b * width, (b + 1) * width, owner, MERGED))
    return out


#: The label of registration intervals merged for the picture.
MERGED = "(intervals merged)"


def _merge_close(spans: list[tuple[int, int | None]], end: int) -> list[tuple[int, int | None]]:
    """At most about MAX_MARKS intervals: those less than 1/MAX_MARKS of the run apart
    become one (a gap that narrow is under a pixel or two of the picture)."""
    if len(spans) <= MAX_MARKS:
        return spans
    gap = end / MAX_MARKS
    out: list[tuple[int, int | None]] = []
    for start, stop in spans:
        last = out[-1][1] if out else None
        if out and last is not None and start - last < gap:
            out[-1] = (out[-1][0], stop)
        else:
            out.append((start, stop))
    return out


def thinned(result: Traced) -> bool:
    """Whether the picture of ``result`` thins some lane's marks or merges its intervals
    (more than MAX_MARKS of one kind there)."""
    trace = result.trace
    counts: Counter[tuple[str | None, str]] = Counter()
    for r in trace:
        if r.kind is Kind.OCCUR and r.socket:
            counts[(r.socket, "occur")] += 1
        elif r.kind in (Kind.POST, Kind.SIGNAL, Kind.RECORD) and r.socket and r.process:
            counts[(r.socket, "notify")] += 1
        elif r.kind is Kind.DELIVER and r.process:
            counts[(r.process, "deliver")] += 1
    marked = {k.name for k in KINDS.values() if k.finding and k.per != "process"}
    counts.update((None, v.kind) for v in result.verdicts if v.kind in marked)
    return (
        any(n > MAX_MARKS for n in counts.values())
        or any(len(spans) > MAX_MARKS for spans in _owners(trace).values())
        or any(len(spans) > MAX_MARKS for spans in _blocked(trace).values())
    )


def draw(result: Traced, ax: Axes, title: str | None = None, axis: _Axis | None = None) -> None:
    """Draw one run's timeline into ``ax`` (on ``axis``, shared by stacked timelines)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    trace = result.trace
    lanes = _lanes(result)
    y = {lane.key: lane.y for lane in lanes}
    axis = axis or _axis([result])
    end_ms = axis.end
    colours = {p: _PALETTE[i % len(_PALETTE)] for i, p in enumerate(result.ends)}
    owners_seen: dict[str, None] = {}
    end_us = max((r.t_us for r in trace), default=0)

    for sock, spans in _owners(trace).items():
        for start, stop, owner, label in _merge_owners(spans, end_us):
            owners_seen[owner] = None
            x0 = start / 1000
            width = (stop / 1000 if stop is not None else end_ms) - x0
            colour = colours.get(owner, "#999999")
            bars = ax.barh(
                y[f"S:{sock}"],
                width,
                left=x0,
                height=0.5,
                color=colour,
                alpha=_REGISTRATION_ALPHA,
                edgecolor=colour,
                gid="registration",
            )
            text = ax.text(
                x0, y[f"S:{sock}"], f" {owner}: {label}", va="center", fontsize=7, gid="owner"
            )
            text.set_clip_path(bars.patches[0])  # the label stays inside its interval
            text.set_clip_on(True)

    for proc, waits in _blocked(trace).items():
        for start, stop in _merge_close(waits, end_us):
            x0 = start / 1000
            width = (stop / 1000 if stop is not None else end_ms) - x0
            ax.barh(
                y[f"P:{proc}"],
                width,
                left=x0,
                height=0.18,
                color=_BLOCKED,
                edgecolor="none",
                gid="blocked-to-end" if stop is None else "blocked",
                zorder=0,
            )

    marks: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in trace:
        t = r.t_us / 1000
        if r.kind is Kind.OCCUR and r.socket:
            marks[(f"S:{r.socket}", "occur")].append(t)
        elif r.kind in (Kind.POST, Kind.SIGNAL, Kind.RECORD) and r.socket and r.process:
            marks[(f"S:{r.socket}", "notify")].append(t)
        elif r.kind is Kind.DELIVER and r.process:
            marks[(f"P:{who(r)}", "deliver")].append(t)
    style: dict[str, dict[str, Any]] = {
        "occur": dict(marker="|", color="#333333", s=60, label="occurrence"),
        "notify": dict(marker="o", color="#1f77b4", s=14, label="posted / recorded"),
        "deliver": dict(marker="v", color="#2ca02c", s=30, label="delivered (taken)"),
    }
    seen: set[str] = set()
    for (lane, kind), xs in marks.items():
        kw = dict(style[kind])
        label = str(kw.pop("label"))
        xs = _thin(xs)
        ax.scatter(
            xs, [y[lane]] * len(xs), label=None if kind in seen else label, gid=kind, zorder=3, **kw
        )
        seen.add(kind)

    notes = _draw_findings(result, ax, y, axis)
    _time_axis(ax, axis)

    ax.set_yticks([lane.y for lane in lanes], [lane.label for lane in lanes], fontsize=8)
    ax.set_ylim(max(y.values(), default=0) + 0.8, -0.8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        title or fill(f"{result.plan.title or result.plan.name}  [profile: {result.profile}]", 110),
        fontsize=10,
    )
    handles, _ = ax.get_legend_handles_labels()
    for owner in owners_seen:
        colour = colours.get(owner, "#999999")
        handles.append(
            Patch(
                facecolor=colour,
                edgecolor=colour,
                alpha=_REGISTRATION_ALPHA,
                label=f"registration by {owner}",
            )
        )
    if _blocked(trace):
        handles.append(Patch(facecolor=_BLOCKED, edgecolor="none", label="process blocked"))
    for number, note, finding in notes:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=f"${number}$",
                markersize=7,
                color=finding.colour,
                label=note,
            )
        )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=7,
        frameon=False,
        borderaxespad=0.0,
    )


def _time_axis(ax: Axes, axis: _Axis) -> None:
    """Ticks in ms up to the activity's end; with a break, ``until`` at the far end."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    pad = axis.last * 0.01
    ax.set_xlabel("time (ms)")
    if not axis.broken:
        ax.set_xlim(-pad, axis.until + pad)
        return
    ax.set_xscale("function", functions=(axis.forward, axis.inverse))
    ax.set_xlim(-pad, axis.until)
    ticks = [t for t in MaxNLocator(6).tick_values(0, axis.last) if 0 <= t < axis.last]
    ax.xaxis.set_major_locator(FixedLocator([*ticks, axis.until]))
    labels = [f"{t:g}" for t in ticks] + [f"until {_duration(axis.until)}"]
    ax.set_xticks([*ticks, axis.until], labels)
    ax.xaxis.get_ticklabels()[-1].set_horizontalalignment("right")
    # the break: a pale band over the compressed rest, and two slashes on the time axis
    ax.axvspan(axis.last, axis.until, color="#f3f3f3", zorder=-1, gid="compressed-rest")
    ax.annotate(
        "//",
        (axis.last, 0),
        xycoords=("data", "axes fraction"),
        ha="center",
        va="center",
        fontsize=9,
        annotation_clip=False,
        gid="axis-break",
    )


def _duration(ms: float) -> str:
    """``180 s``, ``20 ms``: a time as people write it, for the axis's far end."""
    return f"{ms / 1000:g} s" if ms >= 1000 else f"{ms:g} ms"


def _findings_by(per: str) -> list[VerdictKind]:
    return [k for k in KINDS.values() if k.finding and k.per == per]


def _findings_at_their_time() -> list[VerdictKind]:
    """Findings about one consumption or call (stale, spurious, ...): a mark where it was."""
    return [k for k in KINDS.values() if k.finding and k.per not in ("occurrence", "process")]


def _draw_findings(
    result: Traced, ax: Axes, y: dict[str, float], axis: _Axis
) -> list[tuple[int, str, VerdictKind]]:
    """Every finding's mark; returns the numbered notes to list beside the plot."""
    notes: list[tuple[int, str, VerdictKind]] = []
    for kind in _findings_by("occurrence"):
        notes += _draw_occurrence_findings(result, ax, y, kind, len(notes))
    for kind in _findings_at_their_time():
        found = [v for v in result.verdicts if v.kind == kind.name]
        if found:
            shown = _thin(found)
            ax.scatter(
                [v.t_us / 1000 for v in shown],
                [y[f"P:{v.process}"] for v in shown],
                marker=kind.marker,
                s=70,
                facecolor="none",
                edgecolor=kind.colour,
                linewidth=1.5,
                zorder=5,
                gid=kind.name,
                label=f"{kind.name} ({len(found)})",
            )
    at_end: dict[str, int] = defaultdict(int)  # per process: findings marked at the end
    for kind in _findings_by("process"):
        _draw_process_findings(result, ax, y, kind, axis, at_end)
    return notes


def _draw_occurrence_findings(
    result: Traced, ax: Axes, y: dict[str, float], kind: VerdictKind, numbered: int
) -> list[tuple[int, str, VerdictKind]]:
    """Crosses on the process's lane, numbered; arrows to the call or take that caused
    them. Marks close together share one label (``1,2``), so no two labels overprint."""
    trace = result.trace
    found = [v for v in result.verdicts if v.kind == kind.name]
    if not found:
        return []
    marked = _thin(found)
    xs = [v.t_us / 1000 for v in marked]
    ax.scatter(
        xs,
        [y[f"P:{v.process}"] for v in marked],
        marker=kind.marker,
        s=140,
        color=kind.colour,
        edgecolor="black",
        linewidth=0.6,
        zorder=5,
        gid=kind.name,
        label=f"{kind.name.upper()} ({len(found)})",
    )
    notes: list[tuple[int, str, VerdictKind]] = []
    groups: list[tuple[float, float, list[int]]] = []  # (x, lane, numbers)
    near = 0.03 * (max(xs) or 1.0)  # closer than this on one lane: one label
    for v in found[:MAX_LABELS]:
        number = numbered + len(notes) + 1
        x, yy = v.t_us / 1000, y[f"P:{v.process}"]
        text = f"{v.event} {kind.name} for {v.process} at {x:g}ms ({v.reason})"
        cause = trace[v.cause] if v.cause is not None and v.cause < len(trace) else None
        if cause is not None and cause.kind in ("call", "deliver") and cause.process:
            target = (cause.t_us / 1000, y[f"P:{cause.process}"])
            what = cause.call if cause.kind == "call" else f"taking {cause.event}"
            text += f"\n← {cause.process}'s {what} @{cause.t_us / 1000:g}ms"
            ax.annotate(
                "",
                xy=target,
                xytext=(x, yy),
                zorder=4,
                gid=f"{kind.name}-cause",
                arrowprops=dict(
                    arrowstyle="->", color=kind.colour, lw=1.2, connectionstyle="arc3,rad=0.25"
                ),
            )
            ax.scatter(
                [target[0]],
                [target[1]],
                marker="s",
                s=40,
                facecolor="none",
                edgecolor=kind.colour,
                zorder=5,
                gid="cause",
            )
        notes.append((number, text, kind))
        group = next((g for g in groups if g[1] == yy and abs(g[0] - x) < near), None)
        if group is None:
            groups.append((x, yy, [number]))
        else:
            group[2].append(number)
    for x, yy, numbers in groups:
        ax.annotate(
            ",".join(str(n) for n in numbers),
            (x, yy),
            xytext=(7, -7),
            textcoords="offset points",
            va="top",
            fontsize=7,
            fontweight="bold",
            color=kind.colour,
            gid=f"{kind.name}-label",
        )
    return notes


def _draw_process_findings(
    result: Traced,
    ax: Axes,
    y: dict[str, float],
    kind: VerdictKind,
    axis: _Axis,
    at_end: dict[str, int],
) -> None:
    """A finding about a process at the end (a hang, a stall): its mark at the end of the
    process's lane and its name just above, inside the axes. A second finding of the same
    process goes to the left of the first (``at_end`` counts them), so none overprint."""
    from matplotlib.transforms import offset_copy

    fig = ax.get_figure(root=True)
    found: dict[str, Verdict] = {}
    for v in result.verdicts:
        if v.kind == kind.name:
            found.setdefault(v.process, v)
    for number, proc in enumerate(found):
        shift = at_end[proc] * END_LABEL_WIDTH
        at_end[proc] += 1
        ax.scatter(
            [axis.end],
            [y[f"P:{proc}"]],
            marker=kind.marker,
            s=60,
            color=kind.colour,
            edgecolor="black",
            linewidth=0.6,
            zorder=6,
            clip_on=False,
            gid=kind.name,
            transform=offset_copy(ax.transData, fig, x=-shift - 5, units="points"),
            label=None if number else f"{kind.name.upper()} ({len(found)}): waiting at the end",
        )
        ax.annotate(
            kind.name.upper(),
            (axis.end, y[f"P:{proc}"]),
            xytext=(-12 - shift, 5),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
            color=kind.colour,
            fontweight="bold",
            gid=f"{kind.name}-label",
        )


def figure(results: Sequence[Traced]) -> Figure:
    """A figure with one timeline per result, stacked (e.g. both profiles).

    Built without pyplot, so it keeps no global state and renders headless; notebooks
    display the returned Figure.
    """
    from matplotlib.figure import Figure

    lanes = max(len(_lanes(r)) for r in results)
    height = max(2.5, 0.45 * lanes + 1.4)
    fig = Figure(figsize=(12, height * len(results)), layout="constrained")
    axes = fig.subplots(len(results), 1, squeeze=False)
    axis = _axis(results)
    for ax, res in zip(axes[:, 0], results, strict=True):
        draw(res, ax, axis=axis)
    return fig


def plot(result: Traced, ax: Axes | None = None) -> Figure:
    """The timeline of one run; draws into ``ax`` when given, else a new figure."""
    if ax is None:
        return figure([result])
    draw(result, ax)
    return ax.figure  # type: ignore[return-value]


def save(fig: Figure, target: str | Path | IO[bytes], **kwargs: Any) -> None:
    """Save a figure; in SVG the text stays text (selectable, searchable, small)."""
    from matplotlib import rc_context

    kwargs.setdefault("bbox_inches", "tight")  # the legend and notes beside the axes too
    with rc_context({"svg.fonttype": "none"}):
        fig.savefig(target, **kwargs)


def shown(fig: Figure) -> Figure:
    """``fig``, displayed once at the end of the notebook cell that made it: also when the
    cell ends with ``;`` (which hides the cell's value), as pyplot's figures are. Outside
    an IPython kernel it only returns ``fig``."""
    from .notebook import show_at_end_of_cell

    show_at_end_of_cell(fig)
    return fig
