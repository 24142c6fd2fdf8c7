"""Streamed runs: the trace goes to a file while the run goes on, none of it stays, and the
verdicts and ``[[expect]]`` tables are judged all the same."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.cli import main
from simnotify.engine import tracer as tracer_mod
from simnotify.engine.world import World
from simnotify.jsonl import write_trace
from simnotify.profiles import OBSERVED
from simnotify.runner import to_plan
from simnotify.trace import TraceRecord

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
PING_PONG = ROOT / "benchmarks" / "ping-pong.toml"


def _in_memory_jsonl(sc: sn.Scenario, profile: str) -> str:
    out = io.StringIO()
    write_trace(sn.run(sc, profile), out)
    return out.getvalue()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_streamed_trace_is_the_in_memory_trace_byte_for_byte(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracer_mod, "BATCH", 3)  # many batches, cut mid-happening
    sc = sn.load(path)
    for profile in ("observed", "documented"):
        out = io.StringIO()
        done = sn.stream(sc, out, profile)
        assert out.getvalue() == _in_memory_jsonl(sc, profile)
        lines = out.getvalue().splitlines()
        assert done.records == sum(1 for line in lines if '"seq":' in line.split(",")[0])
        # the same verdicts and expectations as a run that keeps its trace
        kept = sn.run(sc, profile)
        assert done.verdicts == [v for v in kept.verdicts if v.kind != "delivered"]
        assert sum(done.delivered.values()) == sum(v.kind == "delivered" for v in kept.verdicts)
        assert [c.message() for c in done.outcomes] == [c.message() for c in kept.outcomes]
        assert done.ok == kept.ok


class _Batches:
    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.seqs: list[int] = []

    def records(self, batch: list[TraceRecord]) -> None:
        self.sizes.append(len(batch))
        self.seqs.extend(r.seq for r in batch)


def test_observers_get_one_batch_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracer_mod, "BATCH", 100)
    plan = to_plan(sn.loads(PING_PONG.read_text().replace('until = "1s"', 'until = "50ms"')))
    seen = _Batches()
    world = World(plan, OBSERVED, [seen])
    world.run()
    assert world.tracer.batch == []
    assert len(seen.sizes) > 50
    # a batch is handed over at the end of the step that filled it: never much over 100
    assert max(seen.sizes) < 130
    assert seen.seqs == list(range(len(seen.seqs)))


def test_stream_counts_kinds_and_notifications_taken() -> None:
    sc = sn.loads(PING_PONG.read_text().replace('until = "1s"', 'until = "20ms"'))
    out = io.StringIO()
    done = sn.stream(sc, out)
    kinds: dict[str, int] = {}
    taken: dict[tuple[str, str], int] = {}
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["format"] == "simnotify-trace" and lines[0]["version"] == 2
    for rec in lines[1:]:
        if "seq" not in rec:
            continue
        kinds[rec["kind"]] = kinds.get(rec["kind"], 0) + 1
        if rec["kind"] == "deliver":
            key = (rec["process"], rec["event"])
            taken[key] = taken.get(key, 0) + 1
    assert done.kinds == kinds
    assert done.taken == taken
    assert done.taken[("C1", "FD_READ")] > 50
    assert done.ok and done.verdicts == []  # every occurrence was delivered
    c1 = sum(n for (p, _, e), n in done.delivered.items() if (p, e) == ("C1", "FD_READ"))
    assert c1 >= done.taken[("C1", "FD_READ")]  # each notification taken satisfied one or more
    assert all(e.blocked for e in done.ends.values())  # every loop waits for the next reply


def test_cli_stream_writes_the_trace_and_a_summary_with_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = tmp_path / "short.toml"  # 100 ms of the ping-pong load: 27,348 records
    short.write_text(PING_PONG.read_text().replace('until = "1s"', 'until = "100ms"'))
    path = tmp_path / "t.jsonl"
    code = main(["run", str(short), "--trace", str(path), "--stream"])
    out = capsys.readouterr().out
    assert code == 0
    lines = path.read_text().splitlines()
    assert f"trace streamed to {path}" in out
    assert f"records: {len(lines) - 1:,} (" in out
    assert "  S4           FD_READ x455" in out
    assert "verdicts: 3,636 delivered" in out
    assert json.loads(lines[-1])["seq"] == len(lines) - 2


def test_cli_stream_checks_expect_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = ROOT / "scenarios" / "prefork-handoff-inherited-read.toml"
    trace = tmp_path / "t.jsonl"
    code = main(["run", str(path), "--trace", str(trace), "--stream", "--profile", "both"])
    out = capsys.readouterr().out
    assert code == 0
    assert "lost      2.100ms FD_READ lost for W: taken by A at 2.100ms (message)" in out
    assert "expectations (observed): 13 held, all held" in out
    assert "expectations (documented): 14 held, all held" in out
    verdict_lines = [
        json.loads(line)
        for line in (tmp_path / "t.prefork-handoff-inherited-read.observed.jsonl")
        .read_text()
        .splitlines()
        if line.startswith('{"verdict"')
    ]
    assert [v["verdict"] for v in verdict_lines] == ["lost", "hang"]


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
