"""The command line as a user meets it: exit codes, output, traces, located errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simnotify.cli import main

ROOT = Path(__file__).resolve().parent.parent
E1 = ROOT / "scenarios" / "shared-sockets-split-interest.toml"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_shared_sockets_example_a_receives_nothing_under_both_profiles(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "run", str(E1), "--profile", "both")
    assert code == 0
    for profile in ("observed", "documented"):
        section = out.split(f"under {profile}")[1].split("== ")[0]
        assert "  A            nothing" in section
        assert "  B            FD_WRITE x1" in section
        assert "FD_READ dropped: not in the mask (FD_WRITE)" in section
    assert "observed and documented: the same notifications taken, the same calls' " in out


def test_trace_is_byte_identical_across_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run_cli(capsys, "run", str(E1), "--quiet", "--trace", str(first))[0] == 0
    assert run_cli(capsys, "run", str(E1), "--quiet", "--trace", str(second))[0] == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().count(b"\n") > 10


def test_trace_identical_across_processes_with_different_hash_seeds(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        path = tmp_path / f"t{seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "simnotify", "run", str(E1), "--quiet", "--trace", str(path)],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1]


THREE_MISTAKES = """\
format = "simnotify/1"
name = "three-mistakes"
until = "10ms"
steps = [
  { at = "1ms", process = "A", call = "recvv", socket = "s" },
  { at = "2ms", process = "A", call = "WSAAsyncSelect", socket = "s", events = ["FD_RAED"] },
  { at = "3", process = "A", call = "closesocket", socket = "s" },
]

[processes.A]
[processes.B]

[[connection]]
client = "B.c"
server = "A.s"
"""


def test_three_mistakes_are_all_reported_with_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(THREE_MISTAKES)
    code, out, err = run_cli(capsys, "run", str(bad))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 3, err
    assert lines[0].startswith(f"{bad}:5: steps[0].call: ")
    assert "did you mean 'recv'" in lines[0]
    assert lines[1].startswith(f"{bad}:6: steps[1].events[0]: ")
    assert "FD_READ" in lines[1]
    assert lines[2].startswith(f"{bad}:7: steps[2].at: ")
    assert '"3ms"' in lines[2]
    assert "Traceback" not in err + out


def test_three_mistakes_via_subprocess_show_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(THREE_MISTAKES)
    proc = subprocess.run(
        [sys.executable, "-m", "simnotify", "run", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 3


def test_failed_expectation_exits_1_and_says_what_was_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = E1.read_text().replace("FIONREAD = true, expect = 100", "FIONREAD = true, expect = 7")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(text)
    code, out, _ = run_cli(capsys, "run", str(wrong), "--quiet")
    assert code == 1
    assert f"FAIL  {wrong}:20: 10.000ms A: ioctlsocket expected 7, got 100 (observed)" in out


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "run", "no/such/file.toml")
    assert code == 2
    assert "no/such/file.toml: no such file" in err


def test_check_accepts_bundled_and_rejects_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "check", *map(str, sorted((ROOT / "scenarios").glob("*.toml"))))
    assert code == 0
    assert ": ok (" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(THREE_MISTAKES)
    assert run_cli(capsys, "check", str(bad))[0] == 2


def test_list_shows_bundled_names_and_titles_from_any_folder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "scenarios").mkdir()  # a folder of the user's own is not the gallery
    (tmp_path / "scenarios" / "mine.toml").write_text("not a scenario")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
    assert any(
        line.startswith("shared-sockets-split-interest ") and "A wants FD_READ" in line
        for line in out.splitlines()
    )


def test_a_bundled_scenario_runs_by_the_name_list_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "run", "shared-sockets-split-interest", "--quiet")
    assert code == 0
    assert "expectations (observed): 9 held, all held" in out
    code, _, err = run_cli(capsys, "run", "shared-sockets-split-intrest")
    assert code == 2
    assert err == (
        "shared-sockets-split-intrest: no such file, nor a bundled scenario of that name "
        "(simnotify list)\n"
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"simnotify {version('simnotify')}\n"


@pytest.mark.parametrize("where", ["--trace", "--csv", "--chrome"])
def test_an_output_that_cannot_be_written_is_named(
    capsys: pytest.CaptureFixture[str], where: str
) -> None:
    code, _, err = run_cli(capsys, "run", str(E1), "--quiet", where, "/dev/full")
    assert code == 2
    assert err == "/dev/full: cannot write it: No space left on device\n"


def test_an_unwritable_picture_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for args in (
        ("run", str(E1), "--plot", str(tmp_path / "no" / "x.png")),
        ("plot", str(E1), "-o", str(tmp_path / "no" / "x.png")),
        ("sweep", str(E1), "--runs", "2", "--plot", str(tmp_path / "no" / "x.png")),
    ):
        code, out, err = run_cli(capsys, *args)
        assert code == 2
        assert err == f"{tmp_path / 'no' / 'x.png'}: cannot write it: no folder {tmp_path / 'no'}\n"
        assert "==" not in out and "sweep [" not in out  # nothing ran
    code, _, err = run_cli(capsys, "sweep", str(E1), "--runs", "2", "--plot", "x.pdf")
    assert (code, err) == (2, "x.pdf: the picture must be .png or .svg\n")


@pytest.mark.parametrize("command", ["run", "plot", "sweep"])
def test_a_negative_seed_is_refused(capsys: pytest.CaptureFixture[str], command: str) -> None:
    extra = ["-o", "x.png"] if command == "plot" else []
    with pytest.raises(SystemExit) as done:
        main([command, str(E1), "--seed", "-1", *extra])
    assert done.value.code == 2
    assert "argument --seed: a seed is 0 to 2^64-1, got -1" in capsys.readouterr().err


def test_jobs_and_dask_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "sweep", str(E1), "--jobs", "2", "--dask", "127.0.0.1:1")
    assert (code, out) == (2, "")
    assert err == "--jobs and --dask both choose where runs go: give one of them\n"


HANDOFF = ROOT / "tests" / "conformance" / "documented"
HANDOFF = HANDOFF / "R42_handoff_reregistration_reports_queued_data_evt.toml"


def test_profile_both_shows_verdicts_that_differ_side_by_side(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "run", str(HANDOFF), "--profile", "both", "--quiet")
    assert code == 0
    diff = out.split("== differences")[1]
    header, row = diff.splitlines()[1:3]
    assert header.split() == ["verdicts", "that", "differ:", "observed", "|", "documented"]
    assert row.split() == ["W", "FD_READ", "lost", "x1", "|", "delivered", "x1"]
    assert "observed: 6.100ms FD_READ lost for W: taken by A at 7.000ms" in diff


def test_json_prints_verdicts_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "run", str(E1), "--profile", "both", "--json")
    assert code == 0
    runs = json.loads(out)
    assert [r["profile"] for r in runs] == ["observed", "documented"]
    for run in runs:
        lost = [v for v in run["verdicts"] if v["kind"] == "lost"]
        assert len(lost) == 1
        assert (lost[0]["process"], lost[0]["event"], lost[0]["reason"], lost[0]["by"]) == (
            "A",
            "FD_READ",
            "replaced-by",
            "B",
        )
        assert run["ok"] is True and run["failures"] == []


def test_wrong_outcome_expectation_says_what_was_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = E1.read_text().replace('lost = "FD_READ"', 'delivered = "FD_READ"')
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(text)
    code, out, _ = run_cli(capsys, "run", str(wrong), "--quiet", "--profile", "both")
    assert code == 1
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("[[expect]]"))
    for profile in ("observed", "documented"):
        section = out.split(f"under {profile}")[1]
        assert (
            f"FAIL  {wrong}:{line}: FD_READ delivered for A: found lost FD_READ for A x1" in section
        )


def test_profile_both_shows_who_is_still_waiting_under_one_profile_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = ROOT / "scenarios" / "twisted-pause-resume-lost-close.toml"
    code, out, _ = run_cli(capsys, "run", str(path), "--profile", "both", "--quiet")
    assert code == 0
    tail = out.split("== differences")[1]
    assert "still waiting at the end (observed | documented):" in tail
    assert "  server       WSAWaitForMultipleEvents(e2) | -" in tail
