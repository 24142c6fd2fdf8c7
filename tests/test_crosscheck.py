"""The cross-check without Wine: the wine profile, scripts, transcripts and classification.

The committed transcripts in tests/transcripts/ were recorded on Wine 8.0; comparing with
them needs no Wine, so these tests run everywhere. tests/test_crosscheck_wine.py runs the
same against a live Wine (marker ``wine``).
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.cli import main
from simnotify.crosscheck.check import crosscheck_plan, replies_by_id, script_for
from simnotify.crosscheck.compare import outcome_of
from simnotify.crosscheck.script import SETTLE_MS
from simnotify.crosscheck.transcript import (
    TranscriptError,
    check_matches,
    decode_transcript,
    parse_transcript,
)
from simnotify.crosscheck.wine import INSTALL_HINT, Wine, WineUnavailable, interpreter_source
from simnotify.profiles import DOCUMENTED, OBSERVED, PROFILES, WINE, WINE_EVIDENCE
from simnotify.scenario import build, load

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = ROOT / "tests" / "transcripts"
W15_MSG = ROOT / "tests/conformance/observed/W15_partial_recv_reposts_fd_read_msg.toml"
W27_MSG = ROOT / "tests/conformance/observed/W27_abortive_close_connaborted_msg.toml"
U09 = ROOT / "tests/conformance/undecided/U09_asyncselect_then_eventselect_reports_write_evt.toml"
PREFORK = ROOT / "scenarios/prefork-handoff-inherited-read.toml"
RECORDED = {
    W15_MSG: "W15_partial_recv_reposts_fd_read_msg",
    W27_MSG: "W27_abortive_close_connaborted_msg",
    U09: "U09_asyncselect_then_eventselect_reports_write_evt",
    PREFORK: "prefork-handoff-inherited-read",
}


def transcript_of(scenario: Path) -> Path:
    return TRANSCRIPTS / f"{RECORDED[scenario]}.wine-8.0.transcript"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def script_of(text: str, profile: str = "wine") -> list[str]:
    return script_for(build(sn.loads(text)), PROFILES[profile]).lines


# -- the wine profile --------------------------------------------------------------------


def test_wine_profile_differs_from_observed_in_exactly_its_evidenced_fields() -> None:
    differ = {f.name for f in fields(WINE) if getattr(WINE, f.name) != getattr(OBSERVED, f.name)}
    assert differ - {"name"} == set(WINE_EVIDENCE)
    for name, text in WINE_EVIDENCE.items():
        # every deviation names where it comes from: a Wine test, Wine 8.0, Wine's server
        # code, or the conformance file that shows it
        assert re.search(r"todo_wine|Wine 8\.0|server/sock\.c|\b[URW]\d+", text), name


def test_wine_profile_keeps_observed_and_documented_as_they_were() -> None:
    assert PROFILES["observed"] is OBSERVED and PROFILES["documented"] is DOCUMENTED
    assert OBSERVED.eventselect_clears_latch and OBSERVED.recv_fault_reenables
    assert not WINE.eventselect_clears_latch and not WINE.recv_fault_reenables
    assert WINE.fd_close_error_on_reset == 0 and OBSERVED.fd_close_error_on_reset == 10053


def test_profile_wine_is_selectable_in_run_plot_and_sweep(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run_cli(capsys, "run", str(U09), "--profile", "wine", "--quiet")
    assert code == 0, out
    assert "under wine" in out and "expectations (wine)" in out
    # W15.7's expectation is Windows' result, which Wine (todo_wine) and so the profile miss
    code, out, _ = run_cli(capsys, "run", str(W15_MSG), "--profile", "wine", "--quiet")
    assert code == 1 and "[W15.7] expected [FD_READ@server], got [] (wine)" in out
    png = tmp_path / "t.png"
    assert run_cli(capsys, "plot", str(U09), "--profile", "wine", "-o", str(png))[0] == 0
    assert png.stat().st_size > 1000
    code, out, _ = run_cli(capsys, "sweep", str(U09), "--profile", "wine", "--runs", "2")
    assert code == 0 and "under wine" in out
    code, out, _ = run_cli(capsys, "run", str(W15_MSG), "--profile", "both", "--quiet")
    assert "under observed" in out and "under documented" in out and "under wine" not in out


def test_a_scenario_may_declare_profile_wine_and_expect_per_profile() -> None:
    text = """
format = "simnotify/1"
name = "w"
profile = "wine"
until = "10ms"
steps = [
  { at = "1ms", process = "A", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ"] },
  { at = "2ms", process = "peer", call = "send", socket = "c", bytes = 5 },
  { at = "3ms", process = "A", call = "WSAEnumNetworkEvents", socket = "s", event = "e", expect = ["FD_READ"] },
  { at = "4ms", process = "A", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ"] },
  { at = "5ms", process = "peer", call = "send", socket = "c", bytes = 5 },
  { at = "6ms", process = "A", call = "WSAEnumNetworkEvents", socket = "s", event = "e", expect = { observed = ["FD_READ"], wine = [] } },
]
[[connection]]
client = "peer.c"
server = "A.s"
[processes.A]
[processes.peer]
"""
    sc = sn.loads(text)
    res = sn.run(sc)
    assert res.profile == "wine" and not res.failures and len(res.checks) == 2
    assert not sn.run(sc, "observed").failures


# -- scripts -----------------------------------------------------------------------------

PAIR = """
format = "simnotify/1"
name = "pair"
until = "20ms"
steps = [
  { at = "1ms", process = "A", call = "WSAAsyncSelect", socket = "s", window = "w", events = ["FD_READ"] },
  { at = "2ms", process = "A", call = "PeekMessage", window = "w" },
  { at = "3ms", process = "A", call = "WSACreateEvent", event = "x" },
  { at = "3ms", process = "A", call = "WSASetEvent", event = "x" },
  { at = "4ms", process = "peer", call = "recv", socket = "c", bytes = 10 },
  { at = "6ms", process = "A", call = "send", socket = "s", bytes = 10 },
]
[[connection]]
client = "peer.c"
server = "A.s"
[processes.A]
[processes.peer]
"""


def test_script_connects_pairs_for_real_before_any_step() -> None:
    lines = script_of(PAIR)
    assert lines[0] == "simnotify-crosscheck-script 1"
    assert "@process A" in lines and "@process peer" in lines
    first_step = next(i for i, ln in enumerate(lines) if "asyncselect" in ln)
    setup = [ln for ln in lines[:first_step] if ln.startswith(("A pair1", "peer pair1"))]
    assert setup == [
        "A pair1.listen listen name=~pair1 create=1 >pair1=port",
        "peer pair1.connect connect name=c port=$pair1 create=1",
        "A pair1.accept accept name=~pair1 as=s",
        "A pair1.close close name=~pair1",
    ]


def test_script_settles_before_an_observation_that_follows_an_action_only() -> None:
    lines = [ln for ln in script_of(PAIR) if not ln.startswith(("#", "@process"))]
    select = next(i for i, ln in enumerate(lines) if "asyncselect" in ln)
    assert lines[select + 1] == "@sleep 10"  # the peek follows an action
    assert "peek window=w" in lines[select + 2]
    create = next(i for i, ln in enumerate(lines) if "createevent" in ln)
    assert "setevent event=x" in lines[create + 1]  # local calls need no wait


def test_a_call_that_blocked_is_started_where_it_blocked_and_finished_where_it_returned() -> None:
    lines = script_of(PAIR)
    start = next(i for i, ln in enumerate(lines) if " start recv name=c bytes=10" in ln)
    ident = lines[start].split()[1]
    send = next(i for i, ln in enumerate(lines) if "send name=s bytes=10" in ln)
    finish = lines.index(f"peer {ident} finish")
    assert start < send < finish


def test_script_passes_ports_process_ids_and_protocol_infos_by_variable() -> None:
    text = """
format = "simnotify/1"
name = "dup"
until = "20ms"
steps = [
  { at = "0ms", process = "A", call = "listen", socket = "L" },
  { at = "1ms", process = "C", call = "connect", socket = "c", to = "A.L" },
  { at = "2ms", process = "C", call = "connect", socket = "d", refused = true },
  { at = "3ms", process = "A", call = "accept", socket = "L", as = "n" },
  { at = "4ms", process = "A", call = "WSADuplicateSocket", socket = "n", target = "B" },
]
[processes.A]
[processes.B]
[processes.C]
"""
    lines = script_of(text)
    listen = next(ln for ln in lines if " listen name=L " in ln)
    assert listen.endswith(">port.A.L=port") and "create=1" in listen
    assert any("connect name=c port=$port.A.L create=1" in ln for ln in lines)
    assert any("connect name=d port=$refused create=1" in ln for ln in lines)
    dup = next(ln for ln in lines if " dup name=n pid=$pid.B " in ln)
    var = dup.rsplit(">", 1)[1].split("=")[0]
    assert any(ln.startswith("B ") and f"import as=n info=${var}" in ln for ln in lines)


def test_processes_named_like_directives_are_still_processes() -> None:
    text = PAIR.replace('"A', '"end').replace('"peer', '"sleep').replace("A.s", "end.s")
    text = text.replace("peer.c", "sleep.c").replace("[processes.A]", "[processes.end]")
    text = text.replace("[processes.peer]", "[processes.sleep]")
    script = script_for(build(sn.loads(text)), WINE)
    assert "@process end" in script.lines and "@process sleep" in script.lines
    commands = script.command_lines()
    assert any(ln.startswith("end ") for ln in commands)
    assert any(ln.startswith("sleep ") for ln in commands)


def test_a_send_that_simnotify_says_would_block_fills_the_buffer_on_the_other_side() -> None:
    lines = script_of(
        (
            ROOT / "tests/conformance/observed/W12_write_once_rearmed_by_wouldblock_msg.toml"
        ).read_text()
    )
    sends = [ln for ln in lines if " send name=server bytes=1048576" in ln]
    assert len(sends) == 2
    assert "fill=1" not in sends[0] and sends[1].endswith("fill=1")


def test_script_lines_do_not_depend_on_the_profile_when_the_calls_do_not() -> None:
    plan = build(load(str(W27_MSG)))
    wine = script_for(plan, WINE).command_lines()
    observed = script_for(plan, OBSERVED).command_lines()
    assert wine == observed


# -- transcripts -------------------------------------------------------------------------


def test_committed_transcripts_say_they_were_recorded_on_wine() -> None:
    files = sorted(TRANSCRIPTS.glob("*.transcript"))
    assert len(files) == len(RECORDED)
    for path in files:
        assert ".wine-8.0." in path.name
        assert parse_transcript(path.read_text(), str(path)).system == "wine-8.0"


@pytest.mark.parametrize("scenario", sorted(RECORDED), ids=lambda p: p.stem)
def test_recorded_wine_transcript_agrees_step_for_step_with_the_wine_profile(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["crosscheck", "--transcript", str(transcript_of(scenario)), str(scenario)]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, out + err
    m = re.search(r"(\d+) steps compared, (\d+) agree", out)
    assert m and int(m.group(1)) > 0 and m.group(1) == m.group(2), out


def test_recorded_transcript_under_observed_shows_the_todo_wine_deviations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--profile", "observed", "--json", "--transcript"]
    code, out, _ = run_cli(capsys, "crosscheck", *argv, str(transcript_of(W15_MSG)), str(W15_MSG))
    assert code == 0
    (doc,) = json.loads(out)
    assert (doc["compared"], doc["agreed"]) == (44, 43)
    (diff,) = doc["differences"]
    assert diff["class"] == "known" and diff["sources"] == ["recv_fault_reenables"]
    assert diff["step"].startswith("W15.7:")
    assert (diff["simnotify"], diff["wine"]) == ("[FD_READ@server]", "[]")

    code, out, _ = run_cli(capsys, "crosscheck", *argv, str(transcript_of(W27_MSG)), str(W27_MSG))
    (doc,) = json.loads(out)
    cited = {s for d in doc["differences"] for s in d["sources"]}
    assert {d["class"] for d in doc["differences"]} == {"known"}
    assert cited == {"fd_close_error_on_reset", "recheck_reports_close_after_reset"}


def _doctored(tmp_path: Path, scenario: Path, edit: tuple[str, str, str]) -> Path:
    """The recorded transcript with one reply changed: (line start, old reply, new reply)."""
    text = transcript_of(scenario).read_text()
    start, old, new = edit
    lines = text.splitlines()
    hits = [i for i, ln in enumerate(lines) if ln.startswith(start) and ln.endswith(f"=> {old}")]
    assert len(hits) >= 1, (start, old)
    lines[hits[0]] = lines[hits[0]][: -len(old)] + new
    path = tmp_path / "doctored.transcript"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_difference_no_rule_explains_is_unexplained_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the first check after data arrives: a real Winsock that posted nothing
    edit = ("T ", "OK w:FD_READ:0@server", "OK -")
    path = _doctored(tmp_path, W15_MSG, edit)
    code, out, _ = run_cli(capsys, "crosscheck", "--json", "--transcript", str(path), str(W15_MSG))
    assert code == 1
    (doc,) = json.loads(out)
    (diff,) = doc["differences"]
    assert diff["class"] == "unexplained" and diff["step"].startswith("W15.2:")
    assert (diff["simnotify"], diff["wine"]) == ("[FD_READ@server]", "[]")


def test_a_send_that_would_block_on_one_side_only_is_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _doctored(tmp_path, W15_MSG, ("T ", "OK 5", "ERR WSAEWOULDBLOCK"))
    code, out, _ = run_cli(capsys, "crosscheck", "--json", "--transcript", str(path), str(W15_MSG))
    (doc,) = json.loads(out)
    classes = [d["class"] for d in doc["differences"]]
    assert code == 0 and classes == ["environment"], doc
    assert "buffer sizes" in doc["differences"][0]["why"]


def test_recv_counts_that_differ_but_both_positive_are_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _doctored(tmp_path, W15_MSG, ("T ", "OK 2", "OK 1"))
    code, out, _ = run_cli(capsys, "crosscheck", "--json", "--transcript", str(path), str(W15_MSG))
    (doc,) = json.loads(out)
    assert code == 0 and [d["class"] for d in doc["differences"]] == ["environment"]


def test_text_report_counts_steps_and_names_each_class(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["crosscheck", "--profile", "observed", "--transcript", str(transcript_of(W27_MSG))]
    code, out, _ = run_cli(capsys, *argv, str(W27_MSG))
    assert code == 0
    assert "12 steps compared, 9 agree, 3 differ" in out
    assert "  known        W27.2: T: PeekMessage(window=w) at 3.000ms" in out
    assert "  evidence     fd_close_error_on_reset: Wine 8.0's missing reset error" in out
    assert out.rstrip().endswith(
        "crosscheck: 1 file, 12 steps compared, 9 agree; differences: 3 known, 0 environment, "
        "0 unexplained: nothing unexplained"
    )


def test_transcript_of_another_scenario_is_bad_input_with_its_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["crosscheck", "--transcript", str(transcript_of(W27_MSG)), str(W15_MSG)]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert re.match(r".*W27_abortive_close_connaborted_msg\.wine-8\.0\.transcript:\d+: ", err)
    assert "does not match the script of" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("hello\n", ":1:", "not a simnotify transcript"),
        ("simnotify-transcript 1\nsystem x\nT 1 peek window=w\n", ":3:", "COMMAND => REPLY"),
    ],
)
def test_malformed_transcript_is_reported_at_its_line(
    text: str, where: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.transcript"
    path.write_text(text)
    code, _, err = run_cli(capsys, "crosscheck", "--transcript", str(path), str(W15_MSG))
    assert code == 2 and f"{path}{where}" in err and message in err


def test_a_transcript_saved_as_utf16_by_powershell_is_read() -> None:
    text = transcript_of(U09).read_text()
    assert decode_transcript(text.encode("utf-16")) == text
    assert decode_transcript(text.encode("utf-8")) == text


def test_check_matches_rejects_a_truncated_transcript() -> None:
    plan = build(load(str(U09)))
    script = script_for(plan, WINE)
    rows = transcript_of(U09).read_text().splitlines()
    truncated = parse_transcript("\n".join(rows[:-3]) + "\n", "t")
    with pytest.raises(TranscriptError, match="transcript ends early"):
        check_matches(truncated, script, "t", "U09")


def test_a_wparam_naming_another_processs_handle_gets_that_processs_name() -> None:
    text = (
        "simnotify-transcript 1\nsystem wine-8.0\n"
        "A 1 accept name=L as=n => OK 0 handle=0x70\n"
        "B 2 peek window=wB => OK wB:FD_WRITE:0@#70,wB:FD_READ:0@#74\n"
        "end\n"
    )
    replies = replies_by_id(parse_transcript(text))
    assert replies["2"] == "OK wB:FD_WRITE:0@n,wB:FD_READ:0@#74"


def test_reply_errors_are_named_like_simnotify_results() -> None:
    plan = build(load(str(W27_MSG)))
    steps = script_for(plan, WINE).steps
    peek = next(s for s in steps if s.call == "PeekMessage")
    got = outcome_of("OK w:FD_CLOSE:10053@server", peek)
    assert got.value == ("FD_CLOSE:WSAECONNABORTED@server",)
    assert outcome_of("ERR WSAENOTSOCK", peek).status == "WSAENOTSOCK"
    assert outcome_of("TIMEOUT", peek).status == "TIMEOUT"


# -- record, and the command's own errors -----------------------------------------------


def test_record_writes_the_script_a_transcript_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "u09.script"
    code, out, _ = run_cli(capsys, "crosscheck", "--record", str(U09), "-o", str(out_file))
    assert code == 0 and "script written to" in out
    script = out_file.read_text()
    assert script.startswith("simnotify-crosscheck-script 1\n") and script.endswith("@end\n")
    transcript = parse_transcript(transcript_of(U09).read_text())
    echoed = [cmd for _, cmd in transcript.lines]
    assert echoed == [ln for ln in script.splitlines() if ln in transcript.replies]
    assert len(echoed) == len(script_for(build(load(str(U09))), WINE).command_lines())

    code, out, _ = run_cli(capsys, "crosscheck", "--record", str(U09))
    assert code == 0 and out == script
    folder = tmp_path / "scripts"
    code, out, _ = run_cli(
        capsys, "crosscheck", "--record", str(U09), str(W15_MSG), "-o", str(folder)
    )
    assert code == 0 and sorted(p.name for p in folder.iterdir()) == [
        "U09_asyncselect_then_eventselect_reports_write_evt.script",
        "W15_partial_recv_reposts_fd_read_msg.script",
    ]


def test_record_of_several_files_needs_a_directory(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "crosscheck", "--record", str(U09), str(W15_MSG))
    assert code == 2 and "-o DIR" in err


def test_without_wine_the_crosscheck_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIMNOTIFY_WINE", "/nonexistent/wine64")
    code, out, err = run_cli(capsys, "crosscheck", str(U09))
    assert code == 2 and out == ""
    assert "Wine is not installed" in err and INSTALL_HINT in err
    assert "apt-get install -y wine64 gcc-mingw-w64-x86-64" in err


def test_a_bad_scenario_file_is_reported_at_its_line_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = ROOT / "tests/bad/unknown-call.toml"
    code, _, err = run_cli(capsys, "crosscheck", str(bad))
    assert code == 2 and re.match(r".*unknown-call\.toml:\d+: ", err) and "Traceback" not in err
    code, _, err = run_cli(capsys, "crosscheck", "nonexistent.toml")
    assert code == 2 and "nonexistent.toml: no such file" in err
    code, _, err = run_cli(capsys, "crosscheck")
    assert code == 2 and "give at least one scenario FILE" in err


def test_the_interpreter_source_ships_with_the_package() -> None:
    source = interpreter_source()
    assert "simnotify cross-check interpreter" in source
    for command in ("asyncselect", "eventselect", "enum", "take", "dup", "import", "fill"):
        assert command in source


def test_a_run_left_unexplained_is_run_again_slower_and_says_so(tmp_path: Path) -> None:
    # the first run misses the FD_READ (as a loaded machine can within 10 ms), the second not
    first = _doctored(tmp_path, W15_MSG, ("T ", "OK w:FD_READ:0@server", "OK -")).read_text()
    second = transcript_of(W15_MSG).read_text()
    scripts: list[str] = []

    def run_script(script: str) -> str:
        scripts.append(script)
        return first if len(scripts) == 1 else second

    report = crosscheck_plan(build(load(str(W15_MSG))), PROFILES["wine"], run_script)
    assert report.ok and report.resettled == (SETTLE_MS, 1)
    assert "@sleep 10\n" in scripts[0] and "@sleep 100\n" in scripts[1]
    assert report.to_json()["resettled"] == {"first_settle_ms": 10, "first_unexplained": 1}


def test_a_difference_that_stays_when_run_slower_is_reported_from_the_second_run(
    tmp_path: Path,
) -> None:
    doctored = _doctored(tmp_path, W15_MSG, ("T ", "OK w:FD_READ:0@server", "OK -")).read_text()
    calls: list[str] = []

    def run_script(script: str) -> str:
        calls.append(script)
        return doctored

    report = crosscheck_plan(build(load(str(W15_MSG))), PROFILES["wine"], run_script, 5)
    assert len(calls) == 2 and "@sleep 50\n" in calls[1]
    assert not report.ok and report.resettled == (5, 1)
    assert [d.klass for d in report.differences] == ["unexplained"]


def _fake_wine(tmp_path: Path, failures: int, message: str) -> Wine:
    """A stand-in for Wine's loader that fails ``failures`` times with ``message``, then
    answers with a transcript header; it counts its runs in ``runs``."""
    loader = tmp_path / "wine"
    loader.write_text(
        "#!/bin/sh\n"
        f'n=$(cat "{tmp_path}/runs" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "{tmp_path}/runs"\n'
        f'if [ $n -le {failures} ]; then echo "{message}" >&2; exit 2; fi\n'
        "echo simnotify-transcript 1\n"
    )
    loader.chmod(0o755)
    return Wine(str(loader), tmp_path / "interp.exe", tmp_path / "prefix")


def test_wine_failing_to_start_a_process_is_tried_again(tmp_path: Path) -> None:
    wine = _fake_wine(tmp_path, 2, "CreateProcess failed: 1359")
    assert wine.run_script("script").startswith("simnotify-transcript")
    assert (tmp_path / "runs").read_text().strip() == "3"


def test_wine_failing_to_start_a_process_three_times_is_reported(tmp_path: Path) -> None:
    wine = _fake_wine(tmp_path, 3, "CreateProcess failed: 1359")
    with pytest.raises(WineUnavailable, match=r"\(exit 2\) \(3 tries\): CreateProcess failed"):
        wine.run_script("script")


def test_any_other_failure_of_the_interpreter_is_reported_at_once(tmp_path: Path) -> None:
    wine = _fake_wine(tmp_path, 1, "script.txt:3: unknown command")
    with pytest.raises(WineUnavailable, match=r"\(exit 2\): script.txt:3: unknown command"):
        wine.run_script("script")
    assert (tmp_path / "runs").read_text().strip() == "1"
