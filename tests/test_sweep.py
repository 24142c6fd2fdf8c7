"""Sweeps: probabilities with intervals, replayable seeds, identical on every executor."""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.cli import main
from simnotify.sweep import SweepError, set_parameter, sweep, wilson

ROOT = Path(__file__).resolve().parent.parent
RACE = ROOT / "scenarios" / "prefork-handoff-race.toml"
VARY = ("network.latency", ["50us", "200us", "1ms"])


def test_wilson_interval_brackets_the_estimate() -> None:
    assert wilson(0, 10)[0] == 0.0 and 0.2 < wilson(0, 10)[1] < 0.35
    low, high = wilson(30, 100)
    assert low < 0.3 < high and high - low < 0.2
    assert wilson(100, 100)[1] == 1.0


def test_sweep_table_and_replayed_examples_reproduce_their_outcome(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = sweep(sn.load(RACE), runs=200, vary=VARY)
    assert [row.value for row in result.rows] == VARY[1]
    lost = ("lost", "W", "FD_READ")
    short, _, long = (row.probability(lost)[0] for row in result.rows)
    assert 0.1 < short < 0.6 and long == 0.0
    for row in result.rows:
        for outcome, seed in row.example.items():
            code = main(
                [
                    "run",
                    str(RACE),
                    "--json",
                    "--seed",
                    str(seed),
                    "--set",
                    f"network.latency={row.value}",
                ]
            )
            assert code in (0, 1)  # 1: the file's inline checks are pinned to its own seed
            out = capsys.readouterr().out
            kind, proc, event = outcome
            assert f'"kind": "{kind}"' in out and f'"process": "{proc}"' in out, outcome
            if event != "-":
                assert f'"event": "{event}"' in out


def test_process_pool_gives_the_serial_result() -> None:
    serial = sweep(sn.load(RACE), runs=120, vary=VARY)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = sweep(sn.load(RACE), runs=120, vary=VARY, executor=pool)
    assert serial == parallel


@pytest.mark.dask
def test_dask_local_cluster_gives_the_serial_result() -> None:
    import distributed  # a test dependency: a sweep on Dask is checked, never skipped

    serial = sweep(sn.load(RACE), runs=120, vary=VARY)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = sweep(sn.load(RACE), runs=120, vary=VARY, executor=client.get_executor())
    assert serial == on_dask


def test_sweep_command_prints_the_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    code = main(
        [
            "sweep",
            str(RACE),
            "--runs",
            "60",
            "--vary",
            "network.latency=50us,1ms",
            "--jobs",
            "2",
            "--plot",
            str(png),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "sweep [prefork-handoff-race] under observed: 60 runs per value, seeds 1..60" in out
    assert "lost FD_READ for W" in out and "95% interval" in out
    assert "replay a run: simnotify run" in out
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_unknown_parameter_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SweepError, match=r"cannot vary 'network\.speed'"):
        set_parameter(sn.run(sn.load(RACE)).plan, "network.speed", "1")
    assert main(["sweep", str(RACE), "--vary", "network.speed=1,2"]) == 2
    assert "cannot vary 'network.speed'" in capsys.readouterr().err


def test_replay_in_python_reproduces_every_example_seed() -> None:
    result = sn.sweep(sn.load(RACE), runs=60, vary=VARY)
    assert any(row.example for row in result.rows)
    for row in result.rows:
        for outcome, seed in row.example.items():
            run = result.replay(row.value, seed)
            found = {(v.kind, v.process, v.event or "-") for v in run.verdicts}
            assert outcome in found, (row.value, outcome, seed)
        assert row.clean_example is not None
        clean = result.replay(row.value, row.clean_example)
        assert not any(v.kind in ("lost", "hang", "stale", "spurious") for v in clean.verdicts)
    with pytest.raises(SweepError, match=r"no row '2ms' in this sweep \(rows: 50us, 200us, 1ms\)"):
        result.replay("2ms", 1)


def test_a_sweep_without_a_parameter_replays_the_scenario_as_written() -> None:
    result = sn.sweep(sn.load(RACE), runs=5)
    (row,) = result.rows
    seed, outcomes = next(iter(row.example.values())), set(row.example)
    replayed = result.replay(row.value, seed)
    assert replayed.plan.network == result.plan.network and outcomes


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("network.recv_buffer", "0", "must be at least 1, got 0"),
        ("network.send_buffer", "-5", "must be at least 1, got -5"),
        ("network.send_buffer", str(2**40), f"must be at most 2147483648, got {2**40}"),
        ("seed", str(2**64), "a seed is an integer from 0 to 2"),
        ("seed", "-1", "a seed is an integer from 0 to 2"),
        ("seed", "0x10", "a seed is an integer from 0 to 2"),
        ("network.latency", "-1us", "negative"),
    ],
)
def test_a_set_value_a_scenario_file_could_not_hold_is_refused(
    key: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = sn.run(sn.load(RACE)).plan
    with pytest.raises(SweepError, match=message):
        set_parameter(plan, key, value)
    assert main(["sweep", str(RACE), "--runs", "2", "--vary", f"{key}={value}"]) == 2
    assert message in capsys.readouterr().err
    assert main(["run", str(RACE), "--set", f"{key}={value}"]) == 2
    assert message in capsys.readouterr().err


def test_varying_over_no_values_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SweepError, match=r"network\.latency: no values to vary it over"):
        sn.sweep(sn.load(RACE), runs=2, vary=("network.latency", []))
    assert main(["sweep", str(RACE), "--vary", "network.latency=,"]) == 2
    assert "no values to vary it over" in capsys.readouterr().err


def test_sweep_plot_puts_values_on_their_scale_and_keeps_coinciding_lines_apart() -> None:
    result = sn.sweep(sn.load(RACE), runs=40, vary=VARY)
    ax = result.plot().axes[0]
    assert ax.get_xscale() == "log"  # 50us to 1ms: a factor of 20
    assert [t.get_text() for t in ax.get_xticklabels()] == VARY[1]
    assert list(ax.get_xticks()) == [50.0, 200.0, 1000.0]
    handles, labels = ax.get_legend_handles_labels()
    assert labels == ["lost FD_READ for W", "hang W"]  # the same probabilities, one race
    lines = [h[0] for h in handles]  # each errorbar's data line
    assert lines[0].get_marker() != lines[1].get_marker()
    assert lines[0].get_linestyle() != lines[1].get_linestyle()


def test_sweep_plot_without_a_scale_puts_values_side_by_side() -> None:
    ax = sn.sweep(sn.load(RACE), runs=5).plot().axes[0]
    assert ax.get_xscale() == "linear"
    assert list(ax.get_xticks()) == [0.0]


def test_a_vary_given_as_one_string_gets_a_clear_message() -> None:
    sc = sn.load(RACE)
    with pytest.raises(SweepError) as err:
        sn.sweep(sc, runs=2, vary="network.latency=1ms,2ms")  # type: ignore[arg-type]
    assert str(err.value) == (
        "vary='network.latency=1ms,2ms': give (KEY, [VALUES]), "
        'e.g. vary=("network.latency", ["1ms", "2ms"])'
    )


def test_the_fallback_progress_line_ends_before_the_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # no tqdm: the counter line
    sn.sweep(sn.load(RACE), runs=3, progress=True)
    err = capsys.readouterr().err
    assert err.endswith("3/3 runs\n")


def test_setting_the_network_handle_time_changes_processes_without_their_own() -> None:
    plan = sn.run(sn.load(RACE)).plan
    slow = set_parameter(plan, "network.handle_time", "3ms")
    a = sn.run(plan)
    b = sn.run(slow)
    takes = [r for r in b.trace if r.kind == "deliver" and r.process == "A"]
    calls_after = [
        r for r in b.trace if r.kind == "call" and r.process == "A" and r.seq > takes[0].seq
    ]
    assert calls_after[0].t_us - takes[0].t_us == 3000  # the handler runs after 3ms, not 50us
    assert [r.t_us for r in a.trace] != [r.t_us for r in b.trace]
