"""The cross-check against a live Wine: every conformance file and bundled scenario.

Marked ``wine``: the quick developer run (``pytest``) leaves them out, ``pytest -m wine``
runs only them, and ``.ci/run`` runs them with ``SIMNOTIFY_REQUIRE_WINE=1``, which turns a
missing Wine into a failure instead of a skip (a check that did not run is a failure).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.cli import main
from simnotify.crosscheck.check import FileReport, crosscheck_plan
from simnotify.crosscheck.wine import Wine, WineUnavailable, wine_session
from simnotify.profiles import OBSERVED, WINE, Profile
from simnotify.scenario import build, load

pytestmark = pytest.mark.wine

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = sorted(ROOT.glob("tests/conformance/*/*.toml"))
SCENARIOS = sorted(ROOT.glob("scenarios/*.toml"))
OBSERVED_FILES = sorted(ROOT.glob("tests/conformance/observed/*.toml"))

#: Each todo_wine case and the deviations the wine profile must cite for it when the
#: observed profile's run is compared with Wine.
TODO_WINE = {
    "W1_accept_latched_reposted_rearmed_by_accept_evt": {"eventselect_clears_latch"},
    "W15_partial_recv_reposts_fd_read_evt": {"eventselect_clears_latch"},
    "W15_partial_recv_reposts_fd_read_msg": {"recv_fault_reenables"},
    "W20_oob_latched_rearmed_by_oob_recv_evt": {
        "eventselect_clears_latch",
        "urgent_replaces_unread",
    },
    "W20_oob_latched_rearmed_by_oob_recv_msg": {"urgent_replaces_unread"},
    "W23_other_shutdowns_no_event_evt": {"shutdown_both_cancels_registration"},
    "W23_other_shutdowns_no_event_msg": {"shutdown_both_cancels_registration"},
    "W24_close_with_unread_data_immediate_fd_close_evt": {"fd_close_waits_for_drain"},
    "W24_close_with_unread_data_immediate_fd_close_msg": {"fd_close_waits_for_drain"},
    "W27_abortive_close_connaborted_evt": {"fd_close_error_on_reset"},
    "W27_abortive_close_connaborted_msg": {
        "fd_close_error_on_reset",
        "recheck_reports_close_after_reset",
    },
    "W36_peek_partial_and_failed_recv_msg": {"recv_fault_reenables"},
    "W40_data_then_peer_close_evt": {"fd_close_waits_for_drain"},
    "W40_data_then_peer_close_msg": {"fd_close_waits_for_drain"},
    "W41_data_then_peer_shutdown_evt": {"fd_close_waits_for_drain"},
    "W41_data_then_peer_shutdown_msg": {"fd_close_waits_for_drain"},
    "W29_poll_and_select_do_not_refire_events_evt": {"polling_signals_recorded_events"},
    "W50_poll_hangup_reset_and_invalid": {"poll_hangup_waits_for_drain", "recv_reports_reset"},
}


@pytest.fixture(scope="session")
def wine() -> Iterator[Wine]:
    """A ready Wine; without one the test skips, or fails when CI requires Wine."""
    try:
        with wine_session() as session:
            yield session
    except WineUnavailable as exc:
        if os.environ.get("SIMNOTIFY_REQUIRE_WINE") == "1":
            pytest.fail(f"SIMNOTIFY_REQUIRE_WINE=1 but the cross-check cannot run: {exc}")
        pytest.skip(str(exc))


#: Scripts run under Wine at once: each run mostly waits (settling, Wine's start-up), so
#: running them side by side takes a fraction of the time, with the same checks.
WINE_RUNS_AT_ONCE = 8


@pytest.fixture(scope="session")
def reports(wine: Wine) -> dict[tuple[Path, str], FileReport]:
    """Every file's cross-check report, against the wine profile and (the observed
    conformance files) against observed, run side by side.

    The observed files' scripts send Wine the same commands under both profiles (only
    their comments differ), so their second report compares the first run's transcript
    rather than running Wine again; a script with other commands still runs.
    """
    transcripts: dict[str, str] = {}

    def run_once(script: str) -> str:
        commands = "\n".join(ln for ln in script.splitlines() if not ln.startswith("#"))
        if commands not in transcripts:
            transcripts[commands] = wine.run_script(script)
        return transcripts[commands]

    def one(item: tuple[Path, Profile]) -> FileReport:
        path, profile = item
        return crosscheck_plan(build(load(str(path))), profile, run_once)

    done: dict[tuple[Path, str], FileReport] = {}
    for wanted in (
        [(p, WINE) for p in CONFORMANCE + SCENARIOS],
        [(p, OBSERVED) for p in OBSERVED_FILES],
    ):
        with ThreadPoolExecutor(max_workers=WINE_RUNS_AT_ONCE) as pool:
            for (path, profile), report in zip(wanted, pool.map(one, wanted), strict=True):
                done[(path, profile.name)] = report
    return done


def _report(
    path: Path, reports: dict[tuple[Path, str], FileReport], profile: Profile = WINE
) -> FileReport:
    report = reports[(path, profile.name)]
    assert report.compared > 0, f"{path.name}: no step compared"
    assert report.against.startswith("wine-"), report.against
    return report


def _unexplained(report: FileReport) -> list[str]:
    return [
        f"{d.where()}: simnotify {d.simnotify}, wine {d.other} ({d.why})"
        for d in report.differences
        if d.klass == "unexplained"
    ]


@pytest.mark.parametrize("path", CONFORMANCE + SCENARIOS, ids=lambda p: p.stem)
def test_wine_agrees_with_the_wine_profile_apart_from_buffer_sizes(
    path: Path, reports: dict[tuple[Path, str], FileReport]
) -> None:
    report = _report(path, reports)
    assert not _unexplained(report), "\n".join(_unexplained(report))
    assert {d.klass for d in report.differences} <= {"environment"}


@pytest.mark.parametrize("path", OBSERVED_FILES, ids=lambda p: p.stem)
def test_under_observed_every_difference_is_a_known_deviation_or_the_environment(
    path: Path, reports: dict[tuple[Path, str], FileReport]
) -> None:
    report = _report(path, reports, OBSERVED)
    assert not _unexplained(report), "\n".join(_unexplained(report))
    cited = {s for d in report.differences if d.klass == "known" for s in d.sources}
    assert cited == TODO_WINE.get(path.stem, set()), [d.where() for d in report.differences]


def test_processes_named_like_script_directives_run_on_wine(wine: Wine) -> None:
    text = """
format = "simnotify/1"
name = "directive-names"
until = "10ms"
steps = [
  { at = "1ms", process = "end", call = "WSAAsyncSelect", socket = "s", window = "w", events = ["FD_READ"] },
  { at = "2ms", process = "sleep", call = "send", socket = "c", bytes = 5 },
  { at = "3ms", process = "end", call = "PeekMessage", window = "w", expect = ["FD_READ@s"] },
]
[[connection]]
client = "sleep.c"
server = "end.s"
[processes.end]
[processes.sleep]
"""
    report = crosscheck_plan(build(sn.loads(text)), WINE, wine.run_script)
    assert (report.compared, report.agreed) == (3, 3)


def test_the_command_runs_files_on_wine_and_prints_the_steps_compared(
    wine: Wine, capsys: pytest.CaptureFixture[str]
) -> None:
    w15 = ROOT / "tests/conformance/observed/W15_partial_recv_reposts_fd_read_msg.toml"
    u09 = (
        ROOT / "tests/conformance/undecided/U09_asyncselect_then_eventselect_reports_write_evt.toml"
    )
    code = main(["crosscheck", str(w15), str(u09)])
    out = capsys.readouterr().out
    assert code == 0
    assert "against wine-8" in out and "profile wine: 44 steps compared, 44 agree" in out
    assert "crosscheck: 2 files, 49 steps compared, 49 agree" in out
    code = main(["crosscheck", "--profile", "observed", "--json", str(w15)])
    (doc,) = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(doc) == {
        "file",
        "profile",
        "against",
        "compared",
        "agreed",
        "differences",
        "resettled",
    }
    assert [(d["class"], d["sources"]) for d in doc["differences"]] == [
        ("known", ["recv_fault_reenables"])
    ]


def test_a_recorded_script_run_by_the_interpreter_itself_gives_a_matching_transcript(
    wine: Wine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Windows workflow, on Wine: --record, then the interpreter's --run, then
    --transcript."""
    scenario = ROOT / "scenarios/prefork-handoff-done-right.toml"
    exe = tmp_path / "simnotify-interp.exe"
    assert main(["crosscheck", "--build-interp", str(exe)]) == 0
    assert main(["crosscheck", "--record", str(scenario), "-o", str(tmp_path / "s.script")]) == 0
    capsys.readouterr()
    subprocess.run(
        [wine.wine, str(exe), "--run", "s.script", "s.transcript"],
        cwd=tmp_path,
        env=wine.env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    transcript = tmp_path / "s.transcript"
    assert transcript.read_text().startswith("simnotify-transcript 1\nsystem wine-")
    code = main(["crosscheck", "--transcript", str(transcript), str(scenario)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "nothing unexplained" in out
