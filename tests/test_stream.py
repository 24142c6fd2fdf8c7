"""Streamed runs: the trace goes to a file while the run goes on, and none of it stays."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.cli import main
from simnotify.engine import world as world_mod
from simnotify.engine.world import World
from simnotify.profiles import OBSERVED
from simnotify.runner import to_plan
from simnotify.trace import write_jsonl

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
PING_PONG = ROOT / "benchmarks" / "ping-pong.toml"
VERDICT_KINDS = {"lost", "stale", "spurious", "hang", "withdrawn"}


def _in_memory_jsonl(sc: sn.Scenario, profile: str) -> str:
    out = io.StringIO()
    write_jsonl([r for r in sn.run(sc, profile).trace if r.kind not in VERDICT_KINDS], out)
    return out.getvalue()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_streamed_trace_is_the_in_memory_trace_byte_for_byte(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world_mod, "STREAM_BATCH", 3)  # many batches, cut mid-happening
    sc = sn.load(path)
    for profile in ("observed", "documented"):
        out = io.StringIO()
        done = sn.stream(sc, out, profile)
        assert out.getvalue() == _in_memory_jsonl(sc, profile)
        assert done.records == out.getvalue().count("\n")


def test_streamed_run_holds_one_batch_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(world_mod, "STREAM_BATCH", 100)
    plan = to_plan(sn.loads(PING_PONG.read_text().replace('until = "1s"', 'until = "50ms"')))
    batches: list[int] = []
    seqs: list[int] = []

    def sink(records: list[sn.trace.TraceRecord]) -> None:
        batches.append(len(records))
        seqs.extend(r.seq for r in records)

    world = World(plan, OBSERVED, sink)
    world.run()
    assert world.trace == []
    assert len(batches) > 50
    # a batch is handed over at the end of the step that filled it: never much over 100
    assert max(batches) < 130
    assert seqs == list(range(len(seqs)))


def test_stream_counts_kinds_and_notifications_taken() -> None:
    sc = sn.loads(PING_PONG.read_text().replace('until = "1s"', 'until = "20ms"'))
    out = io.StringIO()
    done = sn.stream(sc, out)
    kinds: dict[str, int] = {}
    taken: dict[tuple[str, str], int] = {}
    for line in out.getvalue().splitlines():
        rec = json.loads(line)
        kinds[rec["kind"]] = kinds.get(rec["kind"], 0) + 1
        if rec["kind"] == "deliver":
            key = (rec["process"], rec["event"])
            taken[key] = taken.get(key, 0) + 1
    assert done.kinds == kinds
    assert done.taken == taken
    assert done.taken[("C1", "FD_READ")] > 50
    assert done.ok and done.outcomes == []
    assert all(e.blocked for e in done.ends.values())  # every loop waits for the next reply


def test_cli_stream_writes_the_trace_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.jsonl"
    code = main(["run", str(PING_PONG), "--trace", str(path), "--stream"])
    out = capsys.readouterr().out
    assert code == 0
    lines = path.read_text().splitlines()
    assert f"trace streamed to {path}: {len(lines):,} records" in out
    assert "  S4           FD_READ x4,545" in out
    assert "verdicts: not computed in a streamed run" in out
    assert json.loads(lines[-1])["seq"] == len(lines) - 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--stream writes the trace as it runs: give the file with --trace F.jsonl"),
        (["--trace", "T", "--plot", "p.png"], "--stream keeps no trace to draw or export: drop"),
    ],
)
def test_cli_stream_refuses_what_needs_the_whole_trace(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(PING_PONG), "--stream", *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_stream_refuses_expect_tables_with_their_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = SCENARIOS[0]
    code = main(["run", str(path), "--trace", str(tmp_path / "t.jsonl"), "--stream"])
    err = capsys.readouterr().err
    line = to_plan(sn.load(path)).expects[0].line
    assert code == 2
    assert f"{path}:{line}: expect: [[expect]] tables need verdicts" in err
    assert "Traceback" not in err


def test_cli_stream_stops_a_runaway_run_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.jsonl"
    code = main(
        ["run", str(PING_PONG), "--trace", str(path), "--stream", "--max-happenings", "20000"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "exceeded 20000 happenings" in err and "Traceback" not in err
