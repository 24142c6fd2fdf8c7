"""Faults around a run: Ctrl-C, full disks and size limits, closed pipes, odd files and
odd arguments. Each ends in one line saying what happened and the command's exit code;
never a traceback, a worker left running, or a truncated file under its final name."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.cli import main
from simnotify.outfile import OutputError, binary_output, text_output
from simnotify.scenario import LoadLimits, ScenarioError, load
from simnotify.sweep import SweepError

ROOT = Path(__file__).resolve().parent.parent
E1 = ROOT / "scenarios" / "shared-sockets-split-interest.toml"
PING_PONG = ROOT / "benchmarks" / "ping-pong.toml"
CLI = [sys.executable, "-m", "simnotify"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- output files: whole or absent -----------------------------------------------------------


def test_an_output_is_renamed_into_place_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("an older trace\n")
    with text_output(path) as fh:
        fh.write("new\n")
        assert path.read_text() == "an older trace\n"  # still the old one while writing
    assert path.read_text() == "new\n"
    assert leftovers(tmp_path) == ["t.jsonl"]


def test_a_write_that_fails_midway_leaves_no_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    with pytest.raises(OutputError) as failed, text_output(path) as fh:
        fh.write("seq,t_us\n1,")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(failed.value) == f"{path}: cannot write it: No space left on device"
    assert leftovers(tmp_path) == []


def test_an_interrupted_write_leaves_no_file_and_says_which(tmp_path: Path) -> None:
    path = tmp_path / "t.png"
    with pytest.raises(KeyboardInterrupt) as stopped, binary_output(path) as fh:
        fh.write(b"\x89PNG")
        raise KeyboardInterrupt
    assert stopped.value.__notes__ == [f"{path} was not written"]
    assert leftovers(tmp_path) == []


def test_a_file_size_limit_removes_the_partial_trace(tmp_path: Path) -> None:
    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    short = tmp_path / "short.toml"  # 20 ms of traffic: 1.4 MB of trace
    short.write_text(PING_PONG.read_text().replace('until = "1s"', 'until = "20ms"'))
    trace = tmp_path / "t.jsonl"
    for extra in ([], ["--stream"]):
        done = subprocess.run(
            [*CLI, "run", str(short), "--quiet", "--trace", str(trace), *extra],
            capture_output=True,
            text=True,
            preexec_fn=small_files,
            timeout=120,
        )
        assert (done.returncode, done.stderr) == (2, f"{trace}: cannot write it: File too large\n")
        assert leftovers(tmp_path) == ["short.toml"]


def test_an_unwritable_folder_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for where in ("--trace", "--csv", "--chrome"):
        path = tmp_path / "missing" / "t.out"
        code, _, err = run_cli(capsys, "run", str(E1), "--quiet", where, str(path))
        assert (code, err) == (2, f"{path}: cannot write it: No such file or directory\n")


def test_a_picture_needs_a_picture_suffix(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("t", "t.txt"):
        code, out, err = run_cli(capsys, "sweep", str(E1), "--runs", "2", "--plot", name)
        assert (code, out, err) == (2, "", f"{name}: the picture must be .png or .svg\n")


def test_a_sweep_plot_is_written_whole_under_its_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "p.svg"
    code, out, _ = run_cli(capsys, "sweep", str(E1), "--runs", "2", "--plot", str(path))
    assert code == 0 and f"plot written to {path}" in out
    assert path.read_text().startswith("<?xml") and leftovers(tmp_path) == ["p.svg"]


# --- Ctrl-C --------------------------------------------------------------------------------


def _session_stats(session: int) -> list[tuple[int, list[str]]]:
    """Each live process of a session with its /proc stat fields (after the name)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session and fields[0] != "Z":
                found.append((int(entry.name), fields))
    return found


def session_processes(session: int) -> list[int]:
    """Every live process of a session (the command and any worker it started)."""
    return [pid for pid, _ in _session_stats(session)]


def session_cpu(session: int) -> float:
    """CPU seconds the session's live processes have used so far."""
    ticks = sum(int(f[11]) + int(f[12]) for _, f in _session_stats(session))
    return ticks / os.sysconf("SC_CLK_TCK")


def interrupt(argv: list[str], cwd: Path, busy: float, times: int = 1) -> tuple[int, str, float]:
    """Start the command in a session of its own, let it work (``busy`` CPU seconds: past
    its start-up however loaded the machine is), press Ctrl-C ``times`` (SIGINT to its
    whole process group, as a terminal does) and time how long it takes to stop."""
    proc = subprocess.Popen(
        [*CLI, *argv],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while session_cpu(proc.pid) < busy and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the command ended before it could be interrupted"
    start = time.monotonic()
    for _ in range(times):
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.05)
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - start
    deadline = time.monotonic() + 2
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session_processes(proc.pid) == [], "a worker outlived the command"
    return proc.returncode, err, took


@pytest.fixture
def long_run(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "long.toml"
    path.write_text(PING_PONG.read_text().replace('until = "1s"', 'until = "100s"'))
    yield path


@pytest.mark.parametrize(
    ("command", "written"),
    [
        (["run", "--quiet", "--trace", "t.jsonl"], None),
        (["run", "--quiet", "--stream", "--trace", "t.jsonl"], "t.jsonl"),
        (["sweep", "--runs", "20"], None),
    ],
    ids=["run", "run-stream", "sweep"],
)
def test_ctrl_c_stops_with_one_line_and_exit_130(
    long_run: Path, tmp_path: Path, command: list[str], written: str | None
) -> None:
    code, err, _ = interrupt([command[0], str(long_run), *command[1:]], tmp_path, busy=1.2)
    note = f"; {written} was not written" if written else ""
    assert (code, err) == (130, f"interrupted{note}\n")
    assert leftovers(tmp_path) == ["long.toml"]


def test_ctrl_c_stops_a_parallel_sweep_at_once_and_leaves_no_worker(
    long_run: Path, tmp_path: Path
) -> None:
    argv = ["sweep", str(long_run), "--runs", "200", "--jobs", "2"]
    code, err, took = interrupt(argv, tmp_path, busy=1.2, times=3)
    assert (code, err) == (130, "interrupted\n")
    assert took < 1.5


# --- closed pipes --------------------------------------------------------------------------


def test_a_closed_pipe_keeps_the_exit_code_of_failed_expectations(tmp_path: Path) -> None:
    failing = tmp_path / "failing.toml"
    text = PING_PONG.read_text().replace('until = "1s"', 'until = "50ms"')
    failing.write_text(text.replace("bytes = 100 }", "bytes = 100, expect = 99 }", 1))
    proc = subprocess.Popen(
        [*CLI, "run", str(failing)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)  # as `| head -c 100` does, then goes away
    proc.stdout.close()
    err = proc.stderr.read()
    assert (proc.wait(timeout=60), err) == (1, b"")


# --- odd arguments -------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "", "tcp://", "host:99999", "a b:1"])
def test_a_malformed_dask_address_is_refused_before_running(
    capsys: pytest.CaptureFixture[str], address: str
) -> None:
    code, out, err = run_cli(capsys, "sweep", str(E1), "--runs", "2", "--dask", address)
    assert (code, out) == (2, "")
    assert err == (
        f"--dask {address!r}: give the scheduler as HOST:PORT or tcp://HOST:PORT, "
        "e.g. tcp://127.0.0.1:8786\n"
    )


def test_a_varied_buffer_gets_the_scenario_files_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for value, message in (
        ("1.5", "expected an integer, got 1.5"),
        ("0", "must be at least 1, got 0"),
        ("lots", "expected an integer, got 'lots'"),
    ):
        code, out, err = run_cli(
            capsys, "sweep", str(E1), "--runs", "2", "--vary", f"network.recv_buffer=4096,{value}"
        )
        assert (code, out) == (2, "")
        assert err == f"--vary network.recv_buffer={value}: {message}\n"


def test_seeds_beyond_64_bits_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    top = 2**64 - 1
    code, out, err = run_cli(capsys, "sweep", str(E1), "--runs", "3", "--seed", str(top))
    assert (code, out) == (2, "")
    assert err == (
        f"--seed {top} with --runs 3 goes past the largest seed, 2^64-1: start at {top - 2} "
        "or lower\n"
    )
    code, out, _ = run_cli(capsys, "sweep", str(E1), "--runs", "3", "--seed", str(top - 2))
    assert code == 0 and f"seeds {top - 2}..{top}" in out
    with pytest.raises(SweepError, match="a seed is at most 2\\^64-1"):
        sn.sweep(sn.load(E1), runs=2, seed=top)


# --- odd files -----------------------------------------------------------------------------


def test_loads_accepts_a_leading_byte_order_mark_as_load_does(tmp_path: Path) -> None:
    text = E1.read_text(encoding="utf-8")
    (tmp_path / "bom.toml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert sn.loads("\ufeff" + text).name == load(tmp_path / "bom.toml").name == sn.loads(text).name


def test_check_on_a_fifo_with_no_writer_does_not_block(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(main(["check", str(fifo)])))
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # unblock it before failing, so the test run itself can end
        with open(fifo, "w"):
            pass
        worker.join()
        pytest.fail("check blocked on a FIFO with no writer")
    assert result == [2]
    assert capsys.readouterr().err.startswith(f"{fifo}:1: ")


def test_a_fifo_with_a_writer_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    text = E1.read_bytes()

    def write() -> None:
        with open(fifo, "wb") as fh:
            fh.write(text)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.2)  # the writer is waiting in open for a reader
    assert load(fifo).name == "shared-sockets-split-interest"
    writer.join(timeout=10)


def test_a_huge_sparse_file_under_a_raised_limit_is_not_read_whole(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse.toml"
    with open(sparse, "wb") as fh:
        fh.truncate(8 * 2**30)  # 8 GiB of NUL bytes, taking no disk
    start = time.monotonic()
    with pytest.raises(ScenarioError) as refused:
        load(sparse, limits=LoadLimits(max_file_bytes=2**40))
    assert time.monotonic() - start < 5
    assert str(refused.value.problems[0]).startswith(f"{sparse}:1: TOML syntax: ")
    assert "the file holds NUL bytes" in str(refused.value.problems[0])


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_quickly(capsys: pytest.CaptureFixture[str], device: str) -> None:
    code, _, err = run_cli(capsys, "check", device, "--max-file-bytes", str(2**40))
    assert code == 2 and err.startswith(f"{device}:")


def test_standard_output_on_a_full_disk_is_named() -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*CLI, "run", str(E1)], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert (done.returncode, done.stderr) == (
        2,
        "standard output: cannot write it: No space left on device\n",
    )


def test_a_streamed_run_stopped_by_the_limit_leaves_no_trace_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace = tmp_path / "t.jsonl"
    argv = ["run", str(PING_PONG), "--quiet", "--stream", "--trace", str(trace)]
    code, _, err = run_cli(capsys, *argv, "--max-happenings", "1000")
    assert code == 2
    assert err.startswith(f"{PING_PONG}:")
    assert err.endswith(f"raise the limit with --max-happenings; {trace} was not written\n")
    assert leftovers(tmp_path) == []


def test_a_worker_that_dies_stops_the_sweep_with_one_line(long_run: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "sweep", str(long_run), "--runs", "200", "--jobs", "2"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while len(workers := [p for p in session_processes(proc.pid) if p != proc.pid]) < 2:
        assert time.monotonic() < deadline, "no workers started"
        time.sleep(0.1)
    time.sleep(1)  # working on their first tasks
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (
        2,
        "a worker process died (killed by a signal, or out of memory) before its runs were done\n",
    )
    time.sleep(0.5)
    assert session_processes(proc.pid) == []


def test_more_runs_than_a_sweep_can_hold_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "sweep", str(E1), "--runs", str(10**12))
    assert (code, out, err) == (2, "", f"--runs {10**12}: at most 1,000,000 runs per value\n")
    with pytest.raises(SweepError, match="1 to 1,000,000 runs per value"):
        sn.sweep(sn.load(E1), runs=10**12)
