"""Malformed and hostile input: every file in tests/bad, plus huge inputs made on the fly.

Each file in tests/bad starts with a header saying what ``simnotify run`` must do with it:

    # expect: exit=2 line=7 path=steps[1].bytes contains=expected an integer, got '10'
    # args: --max-steps 2            (optional: extra command-line flags)

``exit=2`` files must print a ``FILE:LINE: path: message`` line with that line, path (left
out for problems with the file as a whole) and text; ``exit=0`` and ``exit=1`` files are
legal and must run, and ``contains`` is then looked for in the printed timeline (inline
``expect`` values in those files make exit 0 prove the Winsock errors). Nothing may ever
print a traceback.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from simnotify.cli import main
from simnotify.scenario import LoadLimits
from simnotify.scenario.locate import LineMap

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "bad"
CORPUS = sorted(p for p in BAD.iterdir() if p.is_file())

_HEADER = re.compile(
    r"# expect: exit=(?P<exit>[012])(?: line=(?P<line>\d+))?(?: path=(?P<path>.*?))?"
    r"(?: contains=(?P<contains>.*))?"
)
#: Stderr lines of a rejected file: ``FILE:LINE: ...`` (or ``FILE: ...`` for a note).
_LOCATED = r"{file}(:\d+)?: \S"
#: Files run again through ``python -m simnotify``: one of each kind.
SUBPROCESS_SAMPLE = (
    "binary-garbage.bin",
    "syntax-inline-table-over-two-lines.toml",
    "type-until-bare-number.toml",
    "event-misspelled-in-mask.toml",
    "ref-step-for-unknown-process.toml",
    "spin-event-set-nothing-registered.toml",
    "ok-use-after-closesocket.toml",
    "wrong-expectation-exits-1.toml",
)


@dataclass(frozen=True)
class Expected:
    exit: int
    line: int | None
    path: str
    contains: str
    args: tuple[str, ...]


def expected(path: Path) -> Expected:
    """The header of a corpus file (it is ASCII or UTF-8 even when the rest is not)."""
    first, second, *_ = [*path.read_bytes().split(b"\n", 2), b""]
    header = _HEADER.fullmatch(first.decode("utf-8"))
    assert header is not None, f"{path.name}: first line is not a '# expect:' header"
    args: tuple[str, ...] = ()
    if second.startswith(b"# args:"):
        args = tuple(shlex.split(second.decode("utf-8").removeprefix("# args:")))
    line = header["line"]
    return Expected(
        int(header["exit"]),
        int(line) if line else None,
        header["path"] or "",
        header["contains"] or "",
        args,
    )


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_outcome(file: str, want: Expected, code: int, out: str, err: str) -> None:
    """The exit code, the located message (or the timeline line) and no traceback."""
    assert "Traceback" not in out + err
    assert code == want.exit, f"exit {code}, expected {want.exit}\n{err or out[-2000:]}"
    if want.exit != 2:
        assert err == ""
        assert want.contains in out
        return
    assert want.line is not None, "an exit=2 header needs line="
    for text in err.splitlines():
        assert re.match(_LOCATED.format(file=re.escape(file)), text), f"not located: {text}"
    where = f"{file}:{want.line}: " + (f"{want.path}: " if want.path else "")
    found = [text for text in err.splitlines() if text.startswith(where)]
    assert found, f"no line starts with {where!r}:\n{err}"
    assert any(want.contains in text for text in found), f"{want.contains!r} not in:\n{err}"


# --- the corpus ----------------------------------------------------------------------------


def test_the_corpus_covers_every_kind_of_bad_input() -> None:
    names = [p.name for p in CORPUS]
    assert len(names) >= 40
    kinds = {name.split("-")[0] for name in names}
    for kind in ("syntax", "type", "unknown", "event", "time", "ref", "dup", "limit", "spin", "ok"):
        assert kind in kinds
    assert any(not name.endswith(".toml") for name in names)  # binary garbage and the like
    assert {expected(p).exit for p in CORPUS} == {0, 1, 2}


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_bad_file(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    want = expected(path)
    code, out, err = run_cli(capsys, "run", str(path), "--profile", "both", *want.args)
    check_outcome(str(path), want, code, out, err)


@pytest.mark.parametrize("name", SUBPROCESS_SAMPLE)
def test_bad_file_via_python_m(name: str) -> None:
    path = BAD / name
    want = expected(path)
    done = subprocess.run(
        [sys.executable, "-m", "simnotify", "run", str(path), *want.args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        cwd=ROOT,
    )
    check_outcome(str(path), want, done.returncode, done.stdout, done.stderr)


def test_files_over_a_lowered_limit_run_with_the_default_limits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The limit-*-flag files are legal: only the flag in their header rejects them."""
    for path in sorted(BAD.glob("limit-*-flag.toml")):
        if path.name == "limit-problems-flag.toml":
            continue  # its steps are bad on purpose: the flag only cuts the list short
        code, _, err = run_cli(capsys, "check", str(path))
        assert (code, err) == (0, ""), path.name


def test_a_title_the_console_cannot_encode_is_escaped_not_a_crash() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simnotify", "run", str(BAD / "ok-non-ascii-title.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "== Caf\\xe9 \\u2713" in done.stdout


# --- huge inputs, made here rather than kept in the repository -------------------------------

HEAD = 'format = "simnotify/1"\nname = "huge"\nuntil = "10ms"\n'
PROCS = "[processes.A]\n[processes.peer]\n"


def run_timed(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, float]:
    start = time.perf_counter()
    code, _, err = run_cli(capsys, *argv)
    return code, err, time.perf_counter() - start


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.toml"
    path.write_bytes(b"")
    code, _, err = run_cli(capsys, "run", str(path))
    assert code == 2
    assert err.splitlines() == [
        f"{path}:1: format: missing required key",
        f"{path}:1: name: missing required key",
        f"{path}:1: until: missing required key",
        f"{path}:1: processes: missing required key",
    ]


def test_a_50_mb_file_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.toml"
    step = '  { at = "1ms", process = "A", call = "send", socket = "s", bytes = 1 },\n'
    with path.open("w", encoding="utf-8") as f:
        f.write(HEAD + "steps = [\n")
        f.write(step * (50 * 1024 * 1024 // len(step)))
        f.write("]\n" + PROCS)
    size = path.stat().st_size
    code, err, seconds = run_timed(capsys, "run", str(path))
    assert code == 2
    assert err == (
        f"{path}:1: file is {size} bytes; at most 10485760 allowed: "
        "raise the limit with --max-file-bytes (LoadLimits.max_file_bytes)\n"
    )
    assert seconds < 1


def test_ten_million_steps_are_refused_fast(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shortest step, ``{}``, still makes 10^7 steps 30 MB: the size limit says no."""
    path = tmp_path / "steps.toml"
    path.write_text(HEAD + "steps = [" + "{}," * 10_000_000 + "]\n" + PROCS, encoding="utf-8")
    code, err, seconds = run_timed(capsys, "run", str(path))
    assert code == 2
    assert f"{path}:1: file is " in err
    assert "raise the limit with --max-file-bytes" in err
    assert seconds < 1


def test_one_step_too_many_is_refused_before_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    limit = LoadLimits().max_steps
    path = tmp_path / "steps.toml"
    path.write_text(HEAD + "steps = [" + "{}," * (limit + 1) + "]\n" + PROCS, encoding="utf-8")
    code, err, seconds = run_timed(capsys, "run", str(path))
    assert code == 2
    assert err == (
        f"{path}:4: steps: has {limit + 1} steps; at most {limit} allowed: "
        "raise the limit with --max-steps (LoadLimits.max_steps)\n"
    )
    assert seconds < 5


def test_the_line_of_an_oversized_array_is_found_without_scanning_it() -> None:
    text = HEAD + "steps = [" + "{}," * 1_000_000 + "]\n" + PROCS
    start = time.perf_counter()
    lines = LineMap(text, until=("steps",))
    assert lines.line(("steps",)) == 4
    assert time.perf_counter() - start < 0.5  # a full scan takes seconds


def test_the_file_size_flag_raises_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "padded.toml"
    path.write_text(HEAD + PROCS + "# " + "x" * 11_000_000 + "\n", encoding="utf-8")
    assert run_cli(capsys, "check", str(path))[0] == 2
    code, out, err = run_cli(capsys, "check", str(path), "--max-file-bytes", "12000000")
    assert (code, err) == (0, "")
    assert out == f"{path}: ok (0 steps, 2 processes)\n"


def test_thousands_of_mistakes_are_cut_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "typos.toml"
    step = '  { at = "1ms", process = "A", call = "exit", sokcet = "s" },\n'
    path.write_text(HEAD + "steps = [\n" + step * 20_000 + "]\n" + PROCS, encoding="utf-8")
    code, err, seconds = run_timed(capsys, "run", str(path))
    lines = err.splitlines()
    assert code == 2
    assert len(lines) == 1001
    assert lines[0] == f"{path}:5: steps[0].sokcet: unknown key 'sokcet'"
    assert lines[-1].startswith(f"{path}: more problems not shown (stopped after 1000;")
    assert seconds < 5


# --- runaway runs -----------------------------------------------------------------------------

SPIN = """\
format = "simnotify/1"
name = "spin"
until = "86400s"
steps = [
  { at = "0ms", process = "P", call = "WSACreateEvent", event = "e" },
  { at = "0ms", process = "P", call = "WSASetEvent", event = "e" },
]

[processes.P]
loop = "events"
handle_time = "HANDLE"
"""


@pytest.mark.parametrize("handle_time", ["0us", "1us"])
def test_a_day_long_loop_that_never_waits_stops_at_the_happenings_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], handle_time: str
) -> None:
    """An event set with nothing registered wakes the events loop forever."""
    path = tmp_path / "spin.toml"
    path.write_text(SPIN.replace("HANDLE", handle_time), encoding="utf-8")
    code, err, seconds = run_timed(capsys, "run", str(path), "--max-happenings", "5000")
    assert code == 2
    stopped = re.fullmatch(
        re.escape(f"{path}:9: processes.P: the run exceeded 5000 happenings at ")
        + r"(\d+)\.(\d{3})ms, the last by process P \(a loop that never waits\?\); "
        r"raise the limit with --max-happenings\n",
        err,
    )
    assert stopped is not None, err
    assert int(stopped[1]) < 10  # simulated: caught within milliseconds, not after a day
    assert seconds < 5


# --- the command line itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--max-steps", "0", "must be at least 1, got 0"),
        ("--max-file-bytes", "-1", "must be at least 1, got -1"),
        ("--max-happenings", "1e9", "expected a whole number, got '1e9'"),
        ("--max-processes", "many", "expected a whole number, got 'many'"),
    ],
)
def test_nonsense_limits_are_refused(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", str(BAD / "ok-use-after-closesocket.toml"), flag, value])
    assert info.value.code == 2
    assert f"argument {flag}: {message}" in capsys.readouterr().err


def test_paths_that_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    long = tmp_path / ("x" * 300 + ".toml")
    code, out, err = run_cli(
        capsys, "check", str(tmp_path / "missing.toml"), str(tmp_path), str(loop), str(long)
    )
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{tmp_path / 'missing.toml'}: no such file",
        f"{tmp_path}: is a directory, not a scenario file",
        f"{loop}: cannot read it: {os.strerror(errno.ELOOP)}",
        f"{long}: cannot read it: {os.strerror(errno.ENAMETOOLONG)}",
    ]


def test_an_output_file_that_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-dir" / "out.jsonl"
    code, _, err = run_cli(
        capsys, "run", str(BAD / "ok-use-after-closesocket.toml"), "--trace", str(target)
    )
    assert code == 2
    assert err == f"{target}: cannot write it: {os.strerror(errno.ENOENT)}\n"
