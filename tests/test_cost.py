"""Bounded cost: the stages that once grew with the square of a run's length stay linear.

The cases are the scaling benchmark's (benchmarks/scaling.py). Work is counted, not timed,
where the work can be counted, so the tests hold on a busy machine.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import pytest

import simnotify as sn
from simnotify import oracle, report
from simnotify.trace import TraceRecord

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from scaling import largest_check_text, scenario_text  # noqa: E402


def _io_notes_per_record(monkeypatch: pytest.MonkeyPatch, records: int) -> float:
    calls = [0]
    real = oracle._note_io

    def counted(o: oracle._Occ, r: TraceRecord, proc: str) -> bool:
        calls[0] += 1
        return real(o, r, proc)

    monkeypatch.setattr(oracle, "_note_io", counted)
    res = sn.run(sn.loads(scenario_text("oracle-shared", records)))
    return calls[0] / len(res.trace)


def test_oracle_work_per_discovery_does_not_grow_with_occurrences_left_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A keeps FD_READ selected on a socket it shares with B and never takes one, so every
    occurrence waits for A to the end; B finds each by its own recv. Judging B's
    discoveries costs the same per record in a run four times as long."""
    short = _io_notes_per_record(monkeypatch, 5_000)
    long = _io_notes_per_record(monkeypatch, 20_000)
    assert long < short * 1.2, (short, long)


def test_shared_socket_occurrences_waiting_for_a_are_lost_to_b() -> None:
    """The verdicts of that case: every FD_READ on the shared socket is lost for A, found
    first by B's recv, and A hangs in nothing (it has no loop)."""
    res = sn.run(sn.loads(scenario_text("oracle-shared", 3_000)))
    mine = [v for v in res.verdicts if v.process == "A"]
    occurrences = [r for r in res.trace if r.kind == "occur" and r.event == "FD_READ"]
    on_shared = [r for r in occurrences if r.socket == mine[0].socket]
    assert len(mine) == len(on_shared) > 30
    assert {(v.kind, v.reason, v.by) for v in mine} == {("lost", "delivered-to-other-process", "B")}


def test_reregistering_on_every_round_trip_loses_nothing() -> None:
    """The server ends its FD_READ interest and begins it again on every round trip,
    after its recv: each FD_READ is delivered to it, none lost or withdrawn."""
    res = sn.run(sn.loads(scenario_text("oracle-reregister", 3_000)))
    kinds = {(v.kind, v.process) for v in res.verdicts}
    assert kinds == {("delivered", "S"), ("delivered", "C")}


def _calls(keys: list[str], proc: str = "P", value: str = "0") -> list[report._Outcome]:
    return [(proc, k, value, i, i) for i, k in enumerate(keys)]


def test_align_pairs_equal_calls_and_marks_a_call_made_in_one_run_only() -> None:
    xs = _calls(["a", "b", "c", "d"])
    ys = _calls(["a", "c", "x", "d"])
    pairs = [(x[1] if x else None, y[1] if y else None) for x, y in report.align(xs, ys, window=4)]
    assert pairs == [("a", "a"), ("b", None), ("c", "c"), (None, "x"), ("d", "d")]


def test_align_gives_up_a_window_with_nothing_in_common() -> None:
    xs = _calls([f"x{i}" for i in range(10)] + ["z"])
    ys = _calls([f"y{i}" for i in range(10)] + ["z"])
    pairs = list(report.align(xs, ys, window=4))
    assert sum(1 for x, y in pairs if x and y) == 1  # z, found once the windows are past
    assert sum(1 for x, y in pairs if x and not y) == 10
    assert sum(1 for x, y in pairs if y and not x) == 10


def test_comparing_two_long_runs_call_by_call_is_linear() -> None:
    """400,000 calls per run, repetitive as a load scenario's, with a few made in one run
    only: a quadratic alignment takes minutes, this one well under a second per 10^5."""
    pattern = ["recv(s, bytes=all)", "send(s, bytes=100)", "WSAEnumNetworkEvents(s, event=e)"]
    xs = _calls([pattern[i % 3] for i in range(400_000)])
    ys = _calls([pattern[i % 3] for i in range(400_000) if i % 50_000 != 7])
    start = time.perf_counter()
    pairs = list(report.align(xs, ys))
    took = time.perf_counter() - start
    assert sum(1 for x, y in pairs if x and not y) == 8
    assert took < 20, took


def test_a_call_made_under_one_profile_only_is_listed_at_its_time() -> None:
    """``run --profile both`` lists the differing calls in time order across processes."""
    path = ROOT / "scenarios" / "glib-dup-gsocket-no-fdwrite.toml"
    pair = sn.compare(sn.load(path))
    lines = report.differences(pair.observed, pair.documented)
    start = lines.index("calls whose results differ (observed | documented):")
    assert lines[start + 1 :] == [
        "  test: WSAEnumNetworkEvents(b, event=eb) | (not called) -> [FD_CONNECT, FD_WRITE]",
        "  test: WSAEventSelect(b, 0) | (not called) -> 0",
        "  test: send(b, bytes=5) | (not called) -> 5",
        "  server: recv(conn, bytes=5) | (not called) -> 5",
    ]


# -- loading at the limits ---------------------------------------------------------------


def test_check_looks_at_each_cross_reference_once_and_builds_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``check`` loads (which checks every cross-reference, once) and stops there: no plan
    is built, and a file without a problem is never scanned for line numbers."""
    from simnotify.cli import main
    from simnotify.scenario import locate

    # the package exports functions of these names: the modules themselves
    load_module = sys.modules["simnotify.scenario.load"]
    build_module = importlib.import_module("simnotify.scenario.build")

    counts = {"checks": 0, "scans": 0}
    real_check, real_scan = load_module.check_raw, locate._Scanner.run

    def check_raw(*args: object, **kwargs: object) -> object:
        counts["checks"] += 1
        return real_check(*args, **kwargs)  # type: ignore[arg-type]

    def scan(self: locate._Scanner) -> None:
        counts["scans"] += 1
        real_scan(self)

    def no_build(*args: object) -> object:
        raise AssertionError("check built a plan")

    monkeypatch.setattr(load_module, "check_raw", check_raw)
    monkeypatch.setattr(locate._Scanner, "run", scan)
    monkeypatch.setattr("simnotify.scenario.build", no_build)  # the command imports it on use
    path = tmp_path / "big.toml"
    path.write_text(scenario_text("oracle-reregister", 1_000), encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert "ok (3 steps, 2 processes)" in capsys.readouterr().out
    assert counts == {"checks": 1, "scans": 0}
    # building a loaded scenario checks nothing again; it scans once for the lines
    monkeypatch.setattr(build_module, "check", no_build)
    build_module.build(sn.load(path))
    assert counts == {"checks": 2, "scans": 1}


@pytest.mark.long
def test_check_at_the_limits_stays_within_five_seconds_of_cpu(tmp_path: Path) -> None:
    """The most expensive file ``check`` accepts by default: 200,000 steps in 10 MiB.
    Measured as processor time of the whole command; it takes about 2.5 s (1 s of it in
    the TOML parser, README "Limits"), so the bound holds on a busy machine's slower caches
    and still fails a stage that grows faster than the file."""
    import resource
    import subprocess

    path = tmp_path / "largest.toml"
    path.write_text(largest_check_text(), encoding="utf-8")
    assert path.stat().st_size <= 10 * 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "simnotify", "check", str(path)], capture_output=True, text=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr
    assert "ok (200000 steps, 2 processes)" in done.stdout
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    assert cpu < 5, cpu
    assert after.ru_maxrss < 600 * 1024  # KiB: the largest child so far


# -- bounded memory ------------------------------------------------------------------------

MANY_EVENTS = """\
format = "simnotify/1"
name = "many-events"
until = "100ms"
steps = [
  { at = "0us", process = "C", call = "WSAAsyncSelect", socket = "c", window = "w", events = ["FD_READ", "FD_CLOSE"] },
  { at = "0us", process = "S", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ", "FD_CLOSE"] },
  { at = "1us", process = "C", call = "send", socket = "c", bytes = 100 },
]
[network]
latency = "100us"
handle_time = "10us"
[processes.C]
loop = "messages"
on.FD_READ = [{ call = "recv", bytes = "all" }, { call = "send", bytes = 100 }]
[processes.S]
loop = "events"
on.FD_READ = [{ call = "recv", bytes = "all" }, { call = "WSACreateEvent", event = "x" }, { call = "send", bytes = 100 }]
[[connection]]
client = "C.c"
server = "S.s"
"""


def test_an_events_loop_with_more_than_64_event_objects_fails_its_wait_and_stops() -> None:
    """R77: a wait takes at most 64 handles. A handler that creates an event object on
    every round trip leaves its events loop with 65 open after the 64th: the loop's
    WSAWaitForMultipleEvents fails with WSA_INVALID_PARAMETER, once, and the loop waits
    for one to close, which none does. Every wait record lists at most 64 names."""
    res = sn.run(sn.loads(MANY_EVENTS))
    waits = [r for r in res.trace if r.kind == "call" and r.call == "WSAWaitForMultipleEvents"]
    failed = [r for r in waits if r.error is not None]
    assert [(r.error, r.args) for r in failed] == [("WSA_INVALID_PARAMETER", {"events": 65})]
    creates = [r for r in res.trace if r.kind == "call" and r.call == "WSACreateEvent"]
    assert len(creates) == 64 and failed[0].seq > creates[-1].seq
    blocks = [r for r in res.trace if r.kind == "block" and r.process == "S"]
    assert blocks[-1].reason == "too_many_events"
    assert max(len((r.data or {}).get("handles", ())) for r in blocks) == 64
    assert res.ends["S"].blocked == "its event loop (more than 64 event objects to wait on)"
    assert [v.kind for v in res.verdicts if v.process == "S" and v.kind != "delivered"] == [
        "lost",
        "hang",
    ]


def test_the_picture_of_a_long_run_merges_intervals_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A registration replaced twice per round trip: far more intervals than a picture
    can show. Each lane gets at most about MAX_MARKS of them, and the command says so."""
    from matplotlib.collections import PathCollection

    from simnotify import plot
    from simnotify.cli import main

    text = scenario_text("oracle-reregister", 40_000)
    res = sn.run(sn.loads(text))
    registrations = sum(1 for r in res.trace if r.kind == "register")
    assert registrations > 3 * plot.MAX_MARKS
    assert plot.thinned(res)
    ax = res.plot().axes[0]
    bars = [p for p in ax.patches if p.get_gid() in ("registration", "blocked")]
    assert len(bars) <= 4 * (plot.MAX_MARKS + 1)  # two sockets and two processes
    assert all(
        len(c.get_offsets()) <= plot.MAX_MARKS
        for c in ax.collections
        if isinstance(c, PathCollection)
    )
    path = tmp_path / "long.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["plot", str(path), "-o", str(tmp_path / "long.png")]) == 0
    out = capsys.readouterr().out
    assert "marks thinned and intervals merged" in out
    small = ROOT / "scenarios" / "enum-steals-record.toml"
    assert main(["plot", str(small), "-o", str(tmp_path / "small.png")]) == 0
    assert "thinned" not in capsys.readouterr().out


def test_the_chrome_export_is_written_as_it_is_made(tmp_path: Path) -> None:
    """The Chrome trace of a long run is written event by event: at no time is the whole
    document, nor all its events, in memory (it once took 1.1 GB for 435,000 records)."""
    import io
    import json
    import tracemalloc

    from simnotify.export import chrome_trace, write_chrome

    res = sn.run(sn.loads(scenario_text("oracle-reregister", 4_000)))

    class Counted(io.TextIOBase):
        size = 0

        def write(self, text: str) -> int:
            self.size += len(text)
            return len(text)

    sink = Counted()
    tracemalloc.start()
    write_chrome(res, sink)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < sink.size, (peak, sink.size)  # all at once: several times the output
    buf = io.StringIO()
    write_chrome(res, buf)
    expected = json.dumps(chrome_trace(res), sort_keys=True, separators=(",", ":")) + "\n"
    assert buf.getvalue() == expected


def test_jobs_beyond_the_processors_are_capped_and_the_cap_is_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from simnotify import cli

    monkeypatch.setattr(cli, "cpus", lambda: 1)
    path = ROOT / "scenarios" / "enum-steals-record.toml"
    assert cli.main(["sweep", str(path), "--runs", "2", "--jobs", "8"]) in (0, 1)
    err = capsys.readouterr().err
    assert "--jobs 8 capped at 1, the number of CPUs here" in err
