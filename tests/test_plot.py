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


def test_lost_event_points_at_the_call_that_caused_it() -> None:
    res = sn.run(sn.load(ROOT / "scenarios" / "shared-sockets-split-interest.toml"))
    fig = res.plot()
    ax = fig.axes[0]
    assert marks(fig, "lost") == 1 and marks(fig, "cause") == 1
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "lost-label"]
    assert labels == ["FD_READ lost (replaced-by)\n← B's WSAAsyncSelect @3ms"]
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == 1
    (x0, y0), (x1, y1) = arrows[0].xyann, arrows[0].xy
    lanes = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert (x0, y0) == (5.1, lanes["A"]) and (x1, y1) == (3.0, lanes["B"])
    assert any(t.get_text() == "HANG" for t in ax.texts)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_plot_command_writes_png_and_svg(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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
    assert sum(t.get_gid() == "lost-label" for t in ax.texts) == MAX_LABELS
    assert fig.get_size_inches()[1] < 20
