"""Timeline pictures: marks a reader relies on are there (checked on artists, not pixels)."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.collections import PathCollection

import simnotify as sn
from simnotify.cli import main
from simnotify.plan import Call, ConnectionPlan, Plan, ProcessPlan, Step
from simnotify.plot import MAX_LABELS, MAX_MARKS
from simnotify.runner import run_plan
from simnotify.verdicts import KINDS, Verdict, VerdictKind
from simnotify.winsock import READ

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def marks(fig: object, gid: str) -> int:
    return sum(
        len(c.get_offsets())
        for ax in fig.axes  # type: ignore[attr-defined]
        for c in ax.collections
        if isinstance(c, PathCollection) and c.get_gid() == gid
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_finding_is_marked(path: Path) -> None:
    cmp = sn.compare(sn.load(path))
    fig = cmp.plot()
    assert len(fig.axes) == 2
    for kind in ("lost", "stale", "spurious"):
        want = sum(1 for r in (cmp.observed, cmp.documented) for v in r.verdicts if v.kind == kind)
        assert marks(fig, kind) == want, kind


def lanes_of(ax: object) -> dict[str, float]:
    return {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}  # type: ignore[attr-defined]


def legend_texts(ax: object) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]  # type: ignore[attr-defined]


def test_lost_event_points_at_the_call_that_caused_it() -> None:
    res = sn.run(sn.load(ROOT / "scenarios" / "shared-sockets-split-interest.toml"))
    fig = res.plot()
    ax = fig.axes[0]
    assert marks(fig, "lost") == 1 and marks(fig, "cause") == 1
    assert [t.get_text() for t in ax.texts if t.get_gid() == "lost-label"] == ["1"]
    assert "FD_READ lost for A at 5.1ms (replaced-by)\n← B's WSAAsyncSelect @3ms" in legend_texts(
        ax
    )
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == 1
    (x0, y0), (x1, y1) = arrows[0].xyann, arrows[0].xy
    lanes = lanes_of(ax)
    assert (x0, y0) == (5.1, lanes["A"]) and (x1, y1) == (3.0, lanes["B"])
    assert any(t.get_text() == "HANG" for t in ax.texts)


def test_the_time_axis_runs_to_until_and_a_waiting_process_waits_to_the_end() -> None:
    """The walreceiver waits from 11 ms to the end of its 180 s: the axis is broken after
    the activity, and its blocked bar runs to the axis's far end, marked ``until 180 s``."""
    res = sn.run(sn.load(ROOT / "scenarios" / "pg-walreceiver-lost-fdclose.toml"))
    ax = res.plot().axes[0]
    assert ax.get_xlim()[1] == 180_000
    assert ax.get_xticklabels()[-1].get_text() == "until 180 s"
    assert ax.get_xscale() == "function"  # the quiet rest compressed
    assert sum(1 for t in ax.texts if t.get_gid() == "axis-break") == 1
    lane = lanes_of(ax)["walreceiver"]
    to_end = [
        p
        for c in ax.containers
        for p in c.patches
        if p.get_gid() == "blocked-to-end" and p.get_y() + p.get_height() / 2 == lane
    ]
    assert [(p.get_x(), p.get_x() + p.get_width()) for p in to_end] == [(11.0, 180_000.0)]
    # the stall the oracle finds is marked at the end of the walreceiver's lane
    stall = [t for t in ax.texts if t.get_gid() == "stall-label"]
    assert [(t.get_text(), t.xy) for t in stall] == [("STALL", (180_000.0, lane))]
    # the registration in effect at the end runs to the end too
    reg = [p for c in ax.containers for p in c.patches if p.get_gid() == "registration"]
    assert max(p.get_x() + p.get_width() for p in reg) == 180_000.0


def test_a_short_quiet_tail_keeps_a_plain_axis_to_until() -> None:
    res = sn.run(sn.load(ROOT / "scenarios" / "shared-sockets-split-interest.toml"))
    ax = res.plot().axes[0]
    assert ax.get_xscale() == "linear" and ax.get_xlim()[1] >= 20.0
    assert not [t for t in ax.texts if t.get_gid() == "axis-break"]


@pytest.mark.parametrize(
    "name",
    ["shared-sockets-split-interest", "prefork-handoff-race", "prefork-handoff-inherited-read"],
)
def test_a_hang_is_marked_on_its_lane_inside_the_axes(name: str) -> None:
    res = sn.run(sn.load(ROOT / "scenarios" / f"{name}.toml"), profile="observed")
    hung = {v.process for v in res.verdicts if v.kind == "hang"}
    assert hung, "the scenario hangs under observed"
    fig = res.plot()
    fig.canvas.draw()
    ax = fig.axes[0]
    inside = ax.get_window_extent()
    labels = [t for t in ax.texts if t.get_gid() == "hang-label"]
    assert sorted(t.get_text() for t in labels) == ["HANG"] * len(hung)
    lanes = lanes_of(ax)
    assert {t.xy for t in labels} == {(res.plan.until_us / 1000, lanes[p]) for p in hung}
    for t in labels:
        box = t.get_window_extent()
        assert (
            inside.x0 <= box.x0
            and box.x1 <= inside.x1
            and inside.y0 <= box.y0
            and box.y1 <= inside.y1
        )


def test_findings_are_drawn_from_the_verdict_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind added to the registry is drawn without more work: one about a process at the
    end beside the hang, without overprinting it, one about a call where it happened."""
    monkeypatch.setitem(
        KINDS,
        "stall",
        VerdictKind("stall", "waits while its condition holds", True, "#e377c2", "P", "process"),
    )
    monkeypatch.setitem(
        KINDS,
        "oddity",
        VerdictKind("oddity", "a call the docs leave open", True, "#17becf", "h", "call"),
    )
    res = sn.run(sn.load(ROOT / "scenarios" / "shared-sockets-split-interest.toml"))
    res.verdicts.append(Verdict("stall", "A", 20_000))
    res.verdicts.append(Verdict("stall", "B", 20_000))
    res.verdicts.append(Verdict("oddity", "peer", 5_000))
    fig = res.plot()
    fig.canvas.draw()
    ax = fig.axes[0]
    lanes = lanes_of(ax)
    stalls = [t for t in ax.texts if t.get_gid() == "stall-label"]
    assert sorted((t.get_text(), t.xy[1]) for t in stalls) == [
        ("STALL", lanes["A"]),
        ("STALL", lanes["B"]),
    ]
    assert marks(fig, "stall") == 2 and marks(fig, "oddity") == 1
    hang = next(t for t in ax.texts if t.get_gid() == "hang-label")
    stall_a = next(t for t in stalls if t.xy[1] == lanes["A"])
    assert not hang.get_window_extent().overlaps(stall_a.get_window_extent())
    assert "STALL (2): waiting at the end" in legend_texts(ax)


def finding_labels(fig: object) -> list[object]:
    return [t for ax in fig.axes for t in ax.texts if (t.get_gid() or "").endswith("-label")]  # type: ignore[attr-defined]


def test_no_two_labels_overprint() -> None:
    """Every bundled scenario under both profiles: no finding's label (numbers, HANG, ...)
    overlaps another once laid out (figures with one label or none have nothing to check)."""
    checked = 0
    for path in SCENARIOS:
        fig = sn.compare(sn.load(path)).plot()
        labels = finding_labels(fig)
        if len(labels) < 2:
            continue
        fig.canvas.draw()
        boxes = [t.get_window_extent() for t in labels]
        for i, a in enumerate(boxes):
            assert not any(a.overlaps(b) for b in boxes[i + 1 :]), path.stem
        checked += 1
    assert checked >= 5


def test_losses_at_one_spot_share_one_numbered_label() -> None:
    res = sn.run(sn.load(ROOT / "scenarios" / "shared-sockets-split-interest.toml"))
    first = next(v for v in res.verdicts if v.kind == "lost")
    res.verdicts.append(first._replace(t_us=first.t_us + 10))
    ax = res.plot().axes[0]
    assert [t.get_text() for t in ax.texts if t.get_gid() == "lost-label"] == ["1,2"]
    assert sum(text.startswith("FD_READ lost for A") for text in legend_texts(ax)) == 2


def test_socket_lanes_name_their_descriptors() -> None:
    res = sn.run(sn.load(ROOT / "scenarios" / "shared-sockets-split-interest.toml"))
    ax = res.plot().axes[0]
    assert [label for label in lanes_of(ax) if label.startswith("S")] == [
        "S1: peer.c",
        "S2: A.s, B.s",
    ]


def test_legend_swatches_are_what_is_drawn() -> None:
    res = sn.run(sn.load(ROOT / "scenarios" / "prefork-handoff-race.toml"))
    ax = res.plot().axes[0]
    legend = ax.get_legend()
    swatches = {
        t.get_text(): h.get_facecolor()
        for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
        if t.get_text().startswith(("registration", "process blocked"))
    }
    bars = [p for c in ax.containers for p in c.patches]
    owners = {t.get_text().strip().split(":")[0]: t for t in ax.texts if t.get_gid() == "owner"}
    assert set(swatches) == {f"registration by {o}" for o in owners} | {"process blocked"}
    for p in bars:
        if p.get_gid() == "registration":
            assert p.get_facecolor() in swatches.values()
        else:
            assert p.get_facecolor() == swatches["process blocked"]


def test_svg_text_stays_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    svg = tmp_path / "t.svg"
    assert (
        main(
            ["plot", str(ROOT / "scenarios" / "shared-sockets-split-interest.toml"), "-o", str(svg)]
        )
        == 0
    )
    text = svg.read_text()
    assert "<text" in text and "Shared Sockets page" in text and "HANG" in text


@pytest.mark.parametrize("name", ["prefork-handoff-race", "pg-walreceiver-lost-fdclose"])
def test_plot_command_writes_png_and_svg(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command's files; every bundled scenario's drawing is checked in-process above."""
    path = ROOT / "scenarios" / f"{name}.toml"
    png, svg = tmp_path / "t.png", tmp_path / "t.svg"
    assert main(["plot", str(path), "-o", str(png), "--profile", "both"]) == 0
    assert main(["plot", str(path), "-o", str(svg)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:500]


def test_plot_rejects_other_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(SCENARIOS[0]), "-o", str(tmp_path / "t.jpg")]) == 2
    assert "must be .png or .svg" in capsys.readouterr().err


def test_ten_processes_and_a_thousand_events_stay_readable() -> None:
    procs = [ProcessPlan("peer")] + [ProcessPlan(f"P{i}") for i in range(10)]
    conns = tuple(ConnectionPlan(("peer", f"c{i}"), (f"P{i}", "s")) for i in range(10))
    steps = [
        Step(0, f"P{i}", Call("WSAEventSelect", {"socket": "s", "event": "e", "mask": READ}))
        for i in range(10)
    ]
    steps += [
        Step(10 + 20 * k, "peer", Call("send", {"socket": f"c{k % 10}", "bytes": 1}))
        for k in range(1000)
    ]
    plan = Plan("busy", 25_000, tuple(procs), tuple(steps), conns)
    res = run_plan(plan, "observed")
    assert sum(v.kind == "lost" for v in res.verdicts) > MAX_LABELS
    fig = res.plot()
    ax = fig.axes[0]
    for c in ax.collections:
        if isinstance(c, PathCollection):
            assert len(c.get_offsets()) <= MAX_MARKS
    numbers = [n for t in ax.texts if t.get_gid() == "lost-label" for n in t.get_text().split(",")]
    assert sorted(numbers, key=int) == [str(n) for n in range(1, MAX_LABELS + 1)]
    assert sum(text.startswith("FD_READ lost") for text in legend_texts(ax)) == MAX_LABELS
    assert fig.get_size_inches()[1] < 20
