"""Timeline pictures of a run: who owned each socket's registration, what happened, what
was lost and whose call caused it.

Lanes: one per process (deliveries, blocked time, lost/stale/spurious marks) and one per
underlying socket (registration ownership as coloured intervals, occurrences, posts and
signals). Matplotlib only; works headless (Agg).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from textwrap import fill
from typing import TYPE_CHECKING

from .trace import TraceRecord
from .verdicts import KINDS, Verdict

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .runs import Traced

#: Beyond this many marks of one kind in one lane, marks are thinned to a density strip;
#: beyond this many intervals in one lane (registrations, blocked time), intervals closer
#: than 1/MAX_MARKS of the run are merged. A picture of a long run stays a few MB to draw.
MAX_MARKS = 400
#: Lost events labelled with text and an arrow; further ones get the mark only.
MAX_LABELS = 12

_PALETTE = ("#4C72B0", "#55A868", "#8172B2", "#CCB974", "#64B5CD", "#8C8C8C", "#937860")


@dataclass(frozen=True, slots=True)
class _Lane:
    key: str
    label: str
    y: float


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
    """Per process: intervals from a ``block`` record to that process's next activity."""
    out: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    open_at: dict[str, int] = {}
    for r in trace:
        p = r.process
        if p is None:
            continue
        if r.kind == "block":
            open_at.setdefault(p, r.t_us)
        elif p in open_at and r.kind in ("call", "deliver"):
            out[p].append((open_at.pop(p), r.t_us))
    for p, t in open_at.items():
        out[p].append((t, None))
    return out


def _lanes(result: Traced) -> list[_Lane]:
    procs = list(result.ends)
    sockets = sorted({r.socket for r in result.trace if r.socket}, key=lambda s: int(s[1:]))
    lanes = [_Lane(f"P:{p}", p, float(i)) for i, p in enumerate(procs)]
    base = len(procs) + 0.5
    lanes += [_Lane(f"S:{s}", f"socket {s}", base + i) for i, s in enumerate(sockets)]
    return lanes


def _thin(xs: list[float]) -> list[float]:
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


#: Verdict kinds drawn as marks, one collection each for all processes (thinned alike).
_MARKED = ("lost", "stale", "spurious")
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
        if r.kind == "occur" and r.socket:
            counts[(r.socket, "occur")] += 1
        elif r.kind in ("post", "signal", "record") and r.socket and r.process:
            counts[(r.socket, "notify")] += 1
        elif r.kind == "deliver" and r.process:
            counts[(r.process, "deliver")] += 1
    counts.update((None, v.kind) for v in result.verdicts if v.kind in _MARKED)
    return (
        any(n > MAX_MARKS for n in counts.values())
        or any(len(spans) > MAX_MARKS for spans in _owners(trace).values())
        or any(len(spans) > MAX_MARKS for spans in _blocked(trace).values())
    )


def draw(result: Traced, ax: Axes, title: str | None = None) -> None:
    """Draw one run's timeline into ``ax``."""
    from matplotlib.patches import Patch

    trace = result.trace
    lanes = _lanes(result)
    y = {lane.key: lane.y for lane in lanes}
    end_ms = max((r.t_us for r in trace), default=0) / 1000 or 1.0
    colours = {p: _PALETTE[i % len(_PALETTE)] for i, p in enumerate(result.ends)}

    end_us = max((r.t_us for r in trace), default=0)
    for sock, spans in _owners(trace).items():
        for start, stop, owner, label in _merge_owners(spans, end_us):
            x0 = start / 1000
            width = (stop / 1000 if stop is not None else end_ms) - x0
            bars = ax.barh(
                y[f"S:{sock}"],
                width,
                left=x0,
                height=0.5,
                color=colours.get(owner, "#999"),
                alpha=0.35,
                edgecolor=colours.get(owner, "#999"),
                gid="registration",
            )
            text = ax.text(
                x0 + end_ms * 0.005, y[f"S:{sock}"], f"{owner}: {label}", va="center", fontsize=7
            )
            text.set_clip_path(bars.patches[0])  # the label stays inside its interval
            text.set_clip_on(True)

    for proc, blocked in _blocked(trace).items():
        for start, stop in _merge_close(blocked, end_us):
            x0 = start / 1000
            width = (stop / 1000 if stop is not None else end_ms) - x0
            ax.barh(
                y[f"P:{proc}"],
                width,
                left=x0,
                height=0.18,
                color="#dddddd",
                edgecolor="none",
                gid="blocked",
                zorder=0,
            )

    marks: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in trace:
        t = r.t_us / 1000
        if r.kind == "occur" and r.socket:
            marks[(f"S:{r.socket}", "occur")].append(t)
        elif r.kind in ("post", "signal", "record") and r.socket and r.process:
            marks[(f"S:{r.socket}", "notify")].append(t)
        elif r.kind == "deliver" and r.process:
            marks[(f"P:{r.process}", "deliver")].append(t)
    style = {
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

    _draw_findings(result, ax, y, end_ms)

    ax.set_yticks([lane.y for lane in lanes], [lane.label for lane in lanes], fontsize=8)
    ax.set_ylim(max(y.values(), default=0) + 0.8, -0.8)
    ax.set_xlim(-end_ms * 0.01, end_ms * 1.02)
    ax.set_xlabel("time (ms)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        title or fill(f"{result.plan.title or result.plan.name}  [profile: {result.profile}]", 110),
        fontsize=10,
    )
    handles, _ = ax.get_legend_handles_labels()
    handles.append(
        Patch(facecolor="#999", alpha=0.35, label="registration (owner: mechanism mask)")
    )
    handles.append(Patch(facecolor="#dddddd", label="process blocked"))
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False
    )


def _draw_findings(result: Traced, ax: Axes, y: dict[str, float], end_ms: float) -> None:
    trace = result.trace
    lost = [v for v in result.verdicts if v.kind == "lost"]
    if lost:
        marked = _thin_verdicts(lost)
        ax.scatter(
            [v.t_us / 1000 for v in marked],
            [y[f"P:{v.process}"] for v in marked],
            marker=KINDS["lost"].marker,
            s=140,
            color=KINDS["lost"].colour,
            edgecolor="black",
            linewidth=0.6,
            zorder=5,
            gid="lost",
            label=f"LOST ({len(lost)})",
        )
    for v in lost[:MAX_LABELS]:
        x, yy = v.t_us / 1000, y[f"P:{v.process}"]
        cause = trace[v.cause] if v.cause is not None and v.cause < len(trace) else None
        text = f"{v.event} lost ({v.reason})"
        if cause is not None and cause.kind in ("call", "deliver") and cause.process:
            target = (cause.t_us / 1000, y[f"P:{cause.process}"])
            what = cause.call if cause.kind == "call" else f"taking {cause.event}"
            text += f"\n← {cause.process}'s {what} @{cause.t_us / 1000:g}ms"
            ax.annotate(
                "",
                xy=target,
                xytext=(x, yy),
                zorder=4,
                arrowprops=dict(
                    arrowstyle="->", color="#d62728", lw=1.2, connectionstyle="arc3,rad=0.25"
                ),
            )
            ax.scatter(
                [target[0]],
                [target[1]],
                marker="s",
                s=40,
                facecolor="none",
                edgecolor="#d62728",
                zorder=5,
                gid="cause",
            )
        ax.annotate(
            text,
            (x, yy),
            xytext=(6, -14),
            textcoords="offset points",
            fontsize=7,
            color="#d62728",
            gid="lost-label",
        )
    for kind in ("stale", "spurious"):
        marker, colour = KINDS[kind].marker, KINDS[kind].colour
        found = [v for v in result.verdicts if v.kind == kind]
        if found:
            shown = _thin_verdicts(found)
            ax.scatter(
                [v.t_us / 1000 for v in shown],
                [y[f"P:{v.process}"] for v in shown],
                marker=marker,
                s=70,
                facecolor="none",
                edgecolor=colour,
                linewidth=1.5,
                zorder=5,
                gid=kind,
                label=f"{kind} ({len(found)})",
            )
    hangs = [v for v in result.verdicts if v.kind == "hang"]
    for v in hangs:
        ax.annotate(
            "HANG",
            (end_ms, y[f"P:{v.process}"]),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="#d62728",
            fontweight="bold",
            gid="hang",
        )


def _thin_verdicts(found: list[Verdict]) -> list[Verdict]:
    """At most MAX_MARKS verdicts of one kind, spread over the run as ``_thin`` does."""
    if len(found) <= MAX_MARKS:
        return found
    step = len(found) / MAX_MARKS
    return [found[int(i * step)] for i in range(MAX_MARKS)]


def figure(results: list[Traced]) -> Figure:
    """A figure with one timeline per result, stacked (e.g. both profiles).

    Built without pyplot, so it keeps no global state and renders headless; notebooks
    display the returned Figure.
    """
    from matplotlib.figure import Figure

    lanes = max(len(_lanes(r)) for r in results)
    height = max(2.5, 0.45 * lanes + 1.2)
    fig = Figure(figsize=(12, height * len(results)), layout="constrained")
    axes = fig.subplots(len(results), 1, squeeze=False, sharex=True)
    for ax, res in zip(axes[:, 0], results, strict=True):
        draw(res, ax)
    return fig


def plot(result: Traced, ax: Axes | None = None) -> Figure:
    """The timeline of one run; draws into ``ax`` when given, else a new figure."""
    if ax is None:
        return figure([result])
    draw(result, ax)
    return ax.figure  # type: ignore[return-value]
