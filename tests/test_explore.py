"""Explore: every distinguishable schedule, each distinct outcome with a witness that
replays it, and a reduction that loses no outcome."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.cli import main
from simnotify.explore import ExploreError, ExploreResult
from simnotify.runner import run_plan, to_plan
from simnotify.schedule import ScheduleError, format_witness, parse_witness
from simnotify.sweep import label, outcomes_of

ROOT = Path(__file__).resolve().parent.parent
PREFORK = ROOT / "scenarios" / "prefork-handoff-race.toml"
TWO = ROOT / "scenarios" / "two-registrants-race.toml"
NO_RACE = ROOT / "scenarios" / "shared-sockets-fix-one-process.toml"
SMALL = [
    PREFORK,
    TWO,
    ROOT / "scenarios" / "enum-steals-record.toml",
    ROOT / "scenarios" / "stale-message-after-cancel.toml",
    ROOT / "scenarios" / "prefork-handoff-done-right.toml",
    ROOT / "scenarios" / "select-loop-beside-eventselect-dup.toml",
    ROOT / "scenarios" / "pg-walreceiver-lost-fdclose.toml",
]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def labels_of(witness: str, path: Path, profile: str | None = None) -> list[str]:
    """What a replayed witness's run finds and delivers, as the explore table labels it."""
    res = run_plan(to_plan(sn.load(path)), profile, witness)
    return sorted(label(o) for o in outcomes_of(res.verdicts))


def outcome_labels(result: ExploreResult) -> list[list[str]]:
    return sorted(sorted(o.findings + o.delivered) for o in result.outcomes)


@pytest.fixture(scope="module")
def prefork() -> ExploreResult:
    return sn.explore(sn.load(PREFORK))


@pytest.fixture(scope="module")
def two() -> ExploreResult:
    return sn.explore(sn.load(TWO))


def test_prefork_race_has_a_lost_and_a_served_outcome_and_the_search_is_exhaustive(
    prefork: ExploreResult,
) -> None:
    assert prefork.exhaustive
    found = [o.findings for o in prefork.outcomes]
    assert ["lost FD_READ for W", "hang W", "stale FD_READ for A"] in found
    served = [o for o in prefork.outcomes if "delivered FD_READ for W" in o.delivered]
    assert served and served[0].findings == []
    assert sum(o.schedules for o in prefork.outcomes) == prefork.schedules


def test_two_registrants_race_finds_the_hidden_loss_the_plain_run_misses(
    two: ExploreResult,
) -> None:
    assert two.exhaustive
    plain = sn.run(sn.load(TWO))
    assert not [v for v in plain.verdicts if v.kind == "lost"]  # the plain run is served
    lost = [o for o in two.outcomes if "lost FD_READ for B" in o.findings]
    served = [o for o in two.outcomes if o.findings == []]
    assert lost and served
    assert served[0].witness == "-" and served[0].delivered == ["delivered FD_READ for B"]
    # the witness says what was reordered, in words
    assert any(
        "B's WSAEventSelect at 2.000ms before the arrival of 100 bytes on S2" in line
        for o in lost
        for line in o.reordered
    )


@pytest.mark.parametrize("path", [PREFORK, TWO], ids=["prefork", "two-registrants"])
def test_every_witness_replays_its_outcome(path: Path, request: pytest.FixtureRequest) -> None:
    result: ExploreResult = request.getfixturevalue("prefork" if path == PREFORK else "two")
    for o in result.outcomes:
        assert labels_of(o.witness, path) == sorted(o.findings + o.delivered), o.witness
        assert (
            result.replay(o.witness).verdicts
            == run_plan(to_plan(sn.load(path)), None, o.witness).verdicts
        )


def test_run_schedule_replays_a_witness_with_a_byte_identical_trace(
    two: ExploreResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lost = next(o for o in two.outcomes if "lost FD_READ for B" in o.findings)
    traces = []
    for n in (1, 2):
        trace = tmp_path / f"t{n}.jsonl"
        code, out, _ = run_cli(
            capsys, "run", str(TWO), "--schedule", lost.witness, "--trace", str(trace)
        )
        assert code == 1  # the scenario expects B served; this schedule loses its FD_READ
        assert "FD_READ lost for B" in out
        traces.append(trace.read_bytes())
    assert traces[0] == traces[1]
    assert run_cli(capsys, "run", str(TWO), "--quiet")[0] == 0  # the plain run: served


def test_a_scenario_without_a_race_has_one_outcome() -> None:
    result = sn.explore(sn.load(NO_RACE))
    assert result.exhaustive and len(result.outcomes) == 1
    assert result.outcomes[0].witness == "-"
    assert result.outcomes[0].schedules == result.schedules


@pytest.mark.parametrize("path", SMALL, ids=[p.stem for p in SMALL])
def test_the_reduction_loses_no_outcome_and_runs_fewer_schedules(path: Path) -> None:
    plan = sn.load(path)
    reduced = sn.explore(plan)
    naive = sn.explore(plan, reduce=False)
    assert reduced.exhaustive and naive.exhaustive
    assert outcome_labels(reduced) == outcome_labels(naive)
    assert reduced.schedules < naive.schedules


def jittered(path: Path) -> bool:
    plan = to_plan(sn.load(path))
    return plan.network.jitter is not None or any(st.jitter for st in plan.steps)


UNJITTERED = [p for p in sorted((ROOT / "scenarios").glob("*.toml")) if not jittered(p)]


LISTEN_CONNECT = """\
format = "simnotify/1"
name = "listen-connect"
until = "5ms"
steps = [
  { at = "1ms", process = "A", call = "listen", socket = "L" },
  { at = "1ms", process = "A", call = "WSAAsyncSelect", socket = "L", window = "w", events = ["FD_ACCEPT"] },
  { at = "1ms", process = "client", call = "connect", socket = "c", to = "A.L" },
]
[processes.A]
loop = "messages"
on.FD_ACCEPT = [{ call = "accept", socket = "L", as = "conn" }]
[processes.client]
"""


def test_a_blocking_connect_reads_its_listener_so_it_does_not_commute_with_listen() -> None:
    """The connect attempt blocks (its call record comes only at 1.2ms) and looks up A's
    listener at once: before A's listen it is refused, after it A gets FD_ACCEPT."""
    plan = sn.loads(LISTEN_CONNECT)
    reduced, naive = sn.explore(plan), sn.explore(plan, reduce=False)
    assert outcome_labels(reduced) == outcome_labels(naive) == [[], ["delivered FD_ACCEPT for A"]]


@pytest.mark.parametrize("path", UNJITTERED, ids=[p.stem for p in UNJITTERED])
def test_the_default_schedule_is_the_plain_run_when_nothing_is_jittered(path: Path) -> None:
    plan = to_plan(sn.load(path))
    for profile in ("observed", "documented"):
        plain, default = run_plan(plan, profile), run_plan(plan, profile, "-")
        assert [r.to_dict() for r in plain.trace] == [r.to_dict() for r in default.trace]
        assert plain.verdicts == default.verdicts


def test_any_executor_gives_the_same_result(prefork: ExploreResult) -> None:
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = sn.explore(sn.load(PREFORK), executor=pool)
    assert parallel.to_dict() == prefork.to_dict()


@pytest.mark.dask
def test_a_dask_cluster_gives_the_serial_result(two: ExploreResult) -> None:
    import distributed  # a test dependency: explore on Dask is checked, never skipped

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = sn.explore(sn.load(TWO), executor=client.get_executor())
    assert on_dask.to_dict() == two.to_dict()


def test_a_bound_or_budget_makes_the_search_not_exhaustive_and_says_so(
    prefork: ExploreResult,
) -> None:
    none = sn.explore(sn.load(PREFORK), preemptions=0)
    assert not none.exhaustive and none.schedules == 1
    assert [o.witness for o in none.outcomes] == ["-"]
    assert "reorderings bounded at 0" in none.table()[0] and "not exhaustive" in none.table()[0]
    small = sn.explore(sn.load(PREFORK), max_schedules=3)
    assert not small.exhaustive and small.schedules < prefork.schedules
    assert "--max-schedules 3" in small.table()[0]
    with pytest.raises(ExploreError):
        sn.explore(sn.load(PREFORK), preemptions=-1)


def test_witness_text_round_trips_and_bad_witnesses_are_refused() -> None:
    deps = parse_witness("4:1@2000us,9:0>2150us")
    assert format_witness(deps) == "4:1@2000us,9:0>2150us"
    assert parse_witness("-") == [] and format_witness([]) == "-"
    for bad in ("4:1", "4:0@2000us", "9:1@5us,4:1@5us", "x"):
        with pytest.raises(ScheduleError):
            parse_witness(bad)
    plan = to_plan(sn.load(TWO))
    with pytest.raises(ScheduleError, match="does not fit"):
        run_plan(plan, None, "5:1@3000us")  # choice 5 is at 2000us
    with pytest.raises(ScheduleError, match="no choice 99"):
        run_plan(plan, None, "99:1@2000us")


def test_explore_command_table_json_and_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run_cli(capsys, "explore", str(TWO))
    assert code == 0
    assert out.startswith("explore [two-registrants-race] under observed:")
    assert "exhaustive" in out.splitlines()[0] and "lost FD_READ for B, hang B" in out
    assert f"simnotify run {TWO} --schedule WITNESS" in out
    code, out, _ = run_cli(capsys, "explore", str(TWO), "--json")
    doc = json.loads(out)
    assert doc["exhaustive"] is True and doc["schedules"] > 1
    assert {"findings", "schedules", "witness"} <= set(doc["outcomes"][0])
    assert sum(o["schedules"] for o in doc["outcomes"]) == doc["schedules"]
    code, out, _ = run_cli(capsys, "explore", str(TWO), "--json", "--jobs", "2")
    assert code == 0 and json.loads(out) == doc
    code, _, err = run_cli(capsys, "run", str(TWO), "--schedule", "1:x")
    assert code == 2 and "--schedule 1:x" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "explore", str(TWO), "--preemptions", "-1")
    assert code == 2 and "--preemptions" in err
    plot = tmp_path / "w.png"
    code, out, _ = run_cli(capsys, "explore", str(TWO), "--plot", str(plot))
    assert code == 0 and plot.stat().st_size > 0


BUNDLED = sorted((ROOT / "scenarios").glob("*.toml"))
RACES = {"prefork-handoff-race", "two-registrants-race"}
#: bundled scenarios whose outcome no order of their happenings changes
ONE_OUTCOME = {
    "enum-steals-record",
    "fd-write-only-after-wouldblock",
    "prefork-handoff-done-right",
    "shared-event-two-sockets",
    "shared-sockets-fix-one-process",
    "stale-message-after-cancel",
    "twisted-sticky-close-fix",
}


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_bundled_scenario_is_explored_exhaustively(path: Path) -> None:
    result = sn.explore(sn.load(path))
    assert result.exhaustive
    if path.stem in RACES:
        assert len(result.outcomes) > 1, result.table()
    if path.stem in ONE_OUTCOME:
        assert len(result.outcomes) == 1, result.table()
