"""A hostile-input campaign against simnotify: structured mutations of every bundled and
conformance scenario, loaded and (when loadable) run under both profiles, plus faults
around the command line (full disks, signals, closed pipes, odd files) and the most
expensive file the documented limits allow.

Each failure is classed:

- ``traceback``: an exception other than the located ``ScenarioError`` or the
  happenings limit escaped, or the command printed a traceback;
- ``hang``: a case took longer than its time bound (``--case-seconds``), or a command
  did not stop when it should have;
- ``memory``: a case went past its memory bound (``--case-mb``);
- ``unlocated``: a problem without ``FILE:LINE:``, at a line the file does not have, or
  at line 1 while the mutation was further down (nesting, strings, duplicates that should
  be reported where they are);
- ``exit``: a command ended with the wrong exit code, printed more than one line for one
  fault, or left a file or a worker process behind.

It prints what it tried and what it found, and exits 1 if it found anything:

    python scripts/campaign.py                    # the full campaign (about 20 minutes)
    python scripts/campaign.py --short            # a few seconds: what the test suite runs
    python scripts/campaign.py --cases 5000 --jobs 2 --seed 7 --no-faults
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "simnotify"]
SOURCE = "case.toml"
#: Records a mutated run may make before it stops: keeps each case short.
CASE_HAPPENINGS = 100_000


# --- writing TOML back ------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: object) -> str:
    text = str(key)
    return text if _BARE_KEY.fullmatch(text) else _string(text)


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def inline(value: Any) -> str:
    """A value as one line of TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {inline(v)}" for k, v in value.items()) + " }"
    return value.isoformat()  # type: ignore[no-any-return]  # dates and times


class Writer:
    """Data back to TOML, with the line each written path starts on."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.where: dict[tuple[Any, ...], int] = {}

    def text(self, data: dict[str, Any]) -> str:
        self._table((), data)
        return "\n".join(self.lines) + "\n"

    def _put(self, path: tuple[Any, ...], line: str) -> None:
        self.lines.append(line)
        self.where.setdefault(path, len(self.lines))

    def _table(self, path: tuple[Any, ...], data: dict[str, Any]) -> None:
        tables: dict[str, dict[str, Any]] = {}
        if path == ():  # [network], [processes], ... as tables; the rest inline
            tables = {k: v for k, v in data.items() if isinstance(v, dict) and v}
        elif path == ("processes",):  # [processes.NAME]
            tables = {k: v for k, v in data.items() if isinstance(v, dict)}
        for key, value in data.items():
            if key in tables:
                continue
            here = (*path, key)
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                self._put(here, f"{_key(key)} = [")
                for i, item in enumerate(value):
                    self._put((*here, i), f"  {inline(item)},")
                self.lines.append("]")
            else:
                self._put(here, f"{_key(key)} = {inline(value)}")
        for key, value in tables.items():
            here = (*path, key)
            self._put(here, f"[{'.'.join(_key(k) for k in here)}]")
            self._table(here, value)

    def line(self, path: tuple[Any, ...]) -> int:
        """The line of ``path``, or of the nearest written part of it (1 for none)."""
        while path:
            if path in self.where:
                return self.where[path]
            path = path[:-1]
        return 1


# --- mutations ----------------------------------------------------------------------------------

HUGE_NUMBERS: list[Any] = [
    2**31,
    2**31 + 1,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    -1,
    -(10**18),
    0,
    1e308,
    -1e308,
    5e-324,
    -0.0,
    float("nan"),
    float("inf"),
    float("-inf"),
    0.5,
]
ODD_TIMES = [
    "1e308s",
    "0x10ms",
    "-0ms",
    "0ms",
    "1e-9s",
    "nan ms",
    "infs",
    "inf s",
    "+1ms",
    "++1ms",
    "1_000ms",
    "\u0661ms",  # an Arabic-Indic digit one
    " 1ms",
    "1ms ",
    "1 ms",
    "1.5us",
    "0.0000001s",
    "86400.000001s",
    "86401s",
    "9" * 40 + "us",
    "1" + "0" * 400 + "s",
    "1ms1ms",
    "ms",
    "",
    "1h",
    "1MS",
    "1µs",
    "1e3ms",
    "+" * 50 + "1ms",
    "1.ms",
    ".5ms",
]
ODD_STRINGS = [
    "",
    " ",
    "x" * 10_000,
    "y" * 300_000,
    "\x00",
    "a\x00b",
    "\x1b[31mred\x1b[0m",
    "\u202eevil",
    "line\nbreak",
    "tab\there",
    "\r\n",
    "\ud7ff\ue000\uffff",
    "é" * 1000,
    "nosuch",
    "INVALID_SOCKET",
    "FD_READ",
    "FD_ALL_EVENTS",
    "A.s",
    "peer.c",
    "..",
    "a.b.c",
    "'",
    '"',
    "\\",
    "{}",
    "[]",
]
OTHER_TYPES: list[Any] = [True, False, 1, -1, 1.5, "1", [], [1, "a"], {}, {"x": 1}, [[[]]]]


@dataclass
class Case:
    """One mutated file: its text, how it was made, and where the change is."""

    index: int
    base: str
    kind: str
    text: str
    line: int | None = None  # the line the change is on, when it should be reported there
    deep: bool = False  # an error must then be located at ``line`` exactly


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _names(data: Any) -> list[str]:
    """Every string in the file that could be a name (processes, descriptors, events)."""
    return sorted(
        {
            v
            for p in _paths(data)
            if isinstance(v := _get(data, p), str) and 0 < len(v) <= 40 and "\n" not in v
        }
    )


_TIME = re.compile(r"\+?[0-9.]+(us|ms|s)")
_REFERENCE_KEYS = {"process", "socket", "event", "window", "target", "as", "client", "server"}


def _targets(data: dict[str, Any], choice: int) -> list[tuple[Any, ...]]:
    """Where a change of this kind means most: times for times, numbers for numbers,
    names for references; anywhere for the rest."""
    paths = list(_paths(data))
    wanted: Callable[[tuple[Any, ...], Any], bool] | None = {
        3: lambda p, v: isinstance(v, int | float) and not isinstance(v, bool),
        4: lambda p, v: isinstance(v, str) and _TIME.fullmatch(v) is not None,
        6: lambda p, v: isinstance(v, str) and p[-1] in _REFERENCE_KEYS,
        11: lambda p, v: isinstance(v, int | str) and not isinstance(v, bool),
    }.get(choice)
    if wanted is not None:
        chosen = [p for p in paths if wanted(p, _get(data, p))]
        if chosen:
            return chosen
    return paths


def _plausible(rng: random.Random, value: Any) -> Any:
    """Another value of the same sort, mostly a legal one: runs that go other ways."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([0, 1, 2, 10, 100, 4096, 65536, rng.randrange(10**6)])
    if isinstance(value, str) and _TIME.fullmatch(value):
        return rng.choice(["0us", "1us", "+1us", "50us", "1ms", "+3ms", "20ms", "1s", "+0ms"])
    return value


def _structured(rng: random.Random, data: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """Change ``data`` in place; say how and where."""
    choice = rng.randrange(16)
    path = rng.choice(_targets(data, choice))
    parent, key = _get(data, path[:-1]), path[-1]
    value = parent[key]
    if choice >= 11:  # a legal-looking value: the file mostly loads and runs differently
        parent[key] = _plausible(rng, value)
        return "value", path
    if choice == 0:
        del parent[key]
        return "delete", path[:-1]
    if choice == 1:  # the same entry twice: a list element or a key copied under a new name
        if isinstance(parent, list):
            parent.insert(key, _copy(value))
            return "duplicate-element", path
        parent[f"{key}2" if rng.random() < 0.5 else str(key).upper()] = _copy(value)
        return "duplicate-key", path
    if choice == 2:
        parent[key] = rng.choice(OTHER_TYPES)
        return "retype", path
    if choice == 3:
        parent[key] = rng.choice(HUGE_NUMBERS)
        return "number", path
    if choice == 4:
        parent[key] = rng.choice(ODD_TIMES)
        return "time", path
    if choice == 5:
        parent[key] = rng.choice(ODD_STRINGS)
        return "string", path
    if choice == 6:  # a name that nothing creates, or another name of the file
        names = _names(data)
        parent[key] = rng.choice(["nosuch", "", *names]) if names else "nosuch"
        return "reference", path
    if choice == 7:
        if isinstance(parent, dict):
            parent[rng.choice(["unknown", "At", "proces", "bytes", "expect", "on"])] = value
            return "extra-key", path
        parent.append(_copy(value))
        return "append", path
    if choice == 8:  # a scalar wrapped in arrays or tables a few levels deep
        depth = rng.choice([1, 2, 8, 30])
        for _ in range(depth):
            value = [value] if rng.random() < 0.5 else {"x": value}
        parent[key] = value
        return "nest", path
    if choice == 9 and isinstance(parent, dict):  # a key renamed (a process, a field)
        new = rng.choice(["nosuch", "a b", "", "x" * 300, str(key) + "_", "1"])
        parent[new] = parent.pop(key)
        return "rename", path[:-1]
    # a whole table or list emptied or repeated many times
    if isinstance(value, list):
        parent[key] = [] if rng.random() < 0.5 else value * rng.choice([2, 50])
    elif isinstance(value, dict):
        parent[key] = {}
    else:
        parent[key] = [value] * rng.choice([0, 100])
    return "resize", path


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _whole_pair(line: str) -> bool:
    """A ``key = value`` line that is TOML on its own (no value that goes on below it, and
    not a line of prose inside a string over several lines)."""
    if re.match(r"\s*[A-Za-z0-9_.\"-]+\s*=", line) is None:
        return False
    try:
        tomllib.loads(line.strip())
    except tomllib.TOMLDecodeError:
        return False
    return True


def _textual(rng: random.Random, text: str) -> tuple[str, str, int | None, bool]:
    """Change the text itself: (text, kind, line, reported exactly there)."""
    lines = text.split("\n")
    keyed = [i for i, ln in enumerate(lines) if _whole_pair(ln)]
    i = rng.choice(keyed) if keyed else 0
    choice = rng.randrange(9)
    if choice == 0:  # the same key twice in a row
        lines.insert(i + 1, lines[i])
        return "\n".join(lines), "duplicate-line", i + 2, False
    if choice == 1:  # the value replaced by deep nesting
        depth = rng.choice([50, 150, 400, 3000, 20_000])
        key = lines[i].split("=", 1)[0]
        opener = rng.choice(["[", "{ x = "])
        closer = "]" if opener == "[" else " }"
        lines[i] = f"{key}= {opener * depth}1{closer * depth}"
        return "\n".join(lines), f"deep-{depth}", i + 1, depth > 100
    if choice == 2:  # a raw control character inside a value
        ch = rng.choice(["\x00", "\x01", "\x1b", "\x7f", "\x0c", "\u2028", "\ufeff"])
        pos = len(lines[i]) - 1 if lines[i] else 0
        lines[i] = lines[i][:pos] + ch + lines[i][pos:]
        return "\n".join(lines), "control-char", i + 1, ch in "\x01\x1b\x7f\x0c"
    if choice == 3:  # the file cut short
        cut = rng.randrange(len(text))
        return text[:cut], "truncate", None, False
    if choice == 4:  # a string left open
        if '"' in lines[i]:
            j = lines[i].rindex('"')
            lines[i] = lines[i][:j] + lines[i][j + 1 :]
            return "\n".join(lines), "unterminated-string", i + 1, False
        return text + '\nx = "open', "unterminated-string", len(lines) + 1, True
    if choice == 5:  # a multi-line string left open
        key = lines[i].split("=", 1)[0]
        lines[i] = f'{key}= """never closed'
        return "\n".join(lines), "unterminated-multiline", i + 1, True
    if choice == 6:  # a line lost
        del lines[i]
        return "\n".join(lines), "delete-line", None, False
    if choice == 7:  # bytes that are no UTF-8, or a byte-order mark
        pos = rng.randrange(len(text))
        bad = rng.choice(["\udcff", "\ufeff", "\x00\x00"])
        return text[:pos] + bad + text[pos:], "encoding", None, False
    number = rng.choice(["9" * 5000, "1e99999", "0x" + "f" * 100, "nan", "-inf", "1__0"])
    key = lines[i].split("=", 1)[0]
    lines[i] = f"{key}= {number}"
    return "\n".join(lines), "number-text", i + 1, False


def make_case(index: int, seed: int, bases: list[tuple[str, str, dict[str, Any]]]) -> Case:
    """Case ``index`` of a campaign: the same seed always makes the same cases."""
    rng = random.Random(seed * 1_000_003 + index)
    name, text, data = rng.choice(bases)
    if rng.random() < 0.7:
        data = _copy(data)
        kinds, lines = [], []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            if not data:
                break
            kind, path = _structured(rng, data)
            kinds.append(kind)
            lines.append(path)
        writer = Writer()
        written = writer.text(data)
        line = writer.line(lines[0]) if len(lines) == 1 else None
        return Case(index, name, "+".join(kinds), written, line)
    mutated, kind, line, deep = _textual(rng, text)
    return Case(index, name, kind, mutated, line, deep)


def bases() -> list[tuple[str, str, dict[str, Any]]]:
    """The bundled and conformance scenarios: name, text, parsed data."""
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    files += sorted((ROOT / "tests" / "conformance").rglob("*.toml"))
    out = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        out.append((str(path.relative_to(ROOT)), text, tomllib.loads(text)))
    return out


# --- running one case ---------------------------------------------------------------------------


class CaseTimeout(Exception):
    """A case ran past its time bound."""


def _alarm(signum: int, frame: object) -> None:
    raise CaseTimeout


@dataclass
class Finding:
    """Something the campaign counts as a defect."""

    kind: str  # traceback, hang, memory, unlocated, exit
    what: str  # the case or check, and how to repeat it
    detail: str


@dataclass
class Tally:
    """What a batch of cases did."""

    cases: int = 0
    loaded: int = 0
    runs: int = 0
    limited: int = 0
    problems: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")

    def add(self, other: Tally) -> None:
        self.cases += other.cases
        self.loaded += other.loaded
        self.runs += other.runs
        self.limited += other.limited
        self.problems += other.problems
        self.kinds.update(other.kinds)
        self.findings.extend(other.findings)
        self.slowest = max(self.slowest, other.slowest)


_LOCATED = re.compile(re.escape(SOURCE) + r":(\d+): ")


def _judge_problems(case: Case, problems: list[Any], tally: Tally, label: str) -> None:
    """Every problem at a line of the file; the change's own line among them when the
    change is one that must be reported where it is."""
    count = case.text.count("\n") + 1
    lines = []
    for problem in problems:
        shown = str(problem)
        located = _LOCATED.match(shown)
        if located is None or not 1 <= int(located.group(1)) <= count + 1:
            tally.findings.append(Finding("unlocated", label, shown[:300]))
            return
        lines.append(int(located.group(1)))
    if case.line is None or not lines:
        return
    mentioned = any(f"line {case.line}" in str(p) for p in problems)
    if case.deep and case.line not in lines and not mentioned:
        tally.findings.append(
            Finding("unlocated", label, f"expected line {case.line}: {str(problems[0])[:300]}")
        )
    elif case.line > 1 and set(lines) == {1} and not case.kind.startswith(("delete", "rename")):
        tally.findings.append(
            Finding("unlocated", label, f"all at line 1, change at {case.line}: {problems[0]}")
        )


def run_case(case: Case, seconds: float) -> Tally:
    """Load a case; run it under both profiles if it loads. Never raises."""
    from simnotify.engine.tracer import SimulationLimitError
    from simnotify.plan import Limits
    from simnotify.runner import run_plan
    from simnotify.scenario import ScenarioError, build, loads

    tally = Tally(cases=1)
    tally.kinds[case.kind.split("+")[0].split("-")[0]] += 1
    label = f"case {case.index} ({case.kind} of {case.base})"
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    stage = "load"
    try:
        try:
            plan = build(loads(case.text, source=SOURCE))
        except ScenarioError as exc:
            tally.problems += 1
            _judge_problems(case, exc.problems, tally, label)
            return tally
        tally.loaded += 1
        plan = replace(plan, limits=Limits(max_happenings=CASE_HAPPENINGS))
        for profile in ("observed", "documented"):
            stage = f"run under {profile}"
            try:
                run_plan(plan, profile)
            except SimulationLimitError:
                tally.limited += 1
            tally.runs += 1
    except CaseTimeout:
        tally.findings.append(Finding("hang", label, f"{stage} took over {seconds} s"))
    except MemoryError:
        tally.findings.append(Finding("memory", label, f"{stage} ran out of its memory bound"))
    except RecursionError:
        tally.findings.append(Finding("traceback", label, f"{stage}: RecursionError"))
    except Exception as exc:  # the point of the campaign: anything else is a defect
        tally.findings.append(Finding("traceback", label, f"{stage}: {exc!r}"[:300]))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        took = time.perf_counter() - start
        tally.slowest = max(tally.slowest, (took, label))
    return tally


_BASES: list[tuple[str, str, dict[str, Any]]] = []


def _worker_start(megabytes: int) -> None:
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if megabytes:
        limit = megabytes * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _BASES.extend(bases())


def run_cases(first: int, count: int, seed: int, seconds: float) -> Tally:
    """A batch of cases (a task for a worker process)."""
    tally = Tally()
    for index in range(first, first + count):
        tally.add(run_case(make_case(index, seed, _BASES), seconds))
    return tally


def mutations(args: argparse.Namespace) -> Tally:
    total = Tally()
    batch = 200
    with ProcessPoolExecutor(
        max_workers=args.jobs, initializer=_worker_start, initargs=(args.case_mb,)
    ) as pool:
        futures = [
            pool.submit(run_cases, i, min(batch, args.cases - i), args.seed, args.case_seconds)
            for i in range(0, args.cases, batch)
        ]
        for fut in futures:
            total.add(fut.result())
            if args.progress:
                print(f"\r{total.cases}/{args.cases} cases", end="", file=sys.stderr, flush=True)
    if args.progress:
        print(file=sys.stderr)
    return total


# --- faults around the command line ----------------------------------------------------------


@dataclass
class Command:
    """One run of the command: its exit code, output, time and the children's peak memory."""

    code: int
    out: str
    err: str
    seconds: float


def command(argv: list[str], cwd: Path, timeout: float = 120, **kw: Any) -> Command:
    start = time.monotonic()
    done = subprocess.run(
        [*CLI, *argv], cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw
    )
    return Command(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def measured(argv: list[str], cwd: Path) -> tuple[Command, int]:
    """A command's result and its own peak resident memory in bytes (``wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen([*CLI, *argv], cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        took = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return Command(proc.returncode, *text, took), usage.ru_maxrss * 1024


class Checks:
    """Checks of whole commands; each failure becomes a finding."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.findings: list[Finding] = []
        self.tried: list[str] = []
        self.numbers: dict[str, str] = {}

    def expect(self, what: str, ok: bool, kind: str, detail: str) -> None:
        if not ok:
            self.findings.append(Finding(kind, what, detail[:400]))

    def clean_failure(self, what: str, got: Command, code: int, names: str | None = None) -> None:
        """Exit ``code`` with one line (naming ``names``), no traceback."""
        self.tried.append(what)
        if "Traceback" in got.err + got.out:
            self.findings.append(Finding("traceback", what, got.err[-400:]))
            return
        self.expect(what, got.code == code, "exit", f"exit {got.code}, not {code}: {got.err}")
        lines = got.err.splitlines()
        if names is not None:
            self.expect(
                what, len(lines) == 1 and names in lines[0], "unlocated", f"stderr: {got.err!r}"
            )

    def nothing_left(self, what: str, folder: Path, keep: set[str]) -> None:
        extra = sorted(p.name for p in folder.iterdir() if p.name not in keep)
        self.expect(what, not extra, "exit", f"left behind: {extra}")


def _long_run(folder: Path, until: str = "100s") -> Path:
    path = folder / "long.toml"
    text = (ROOT / "benchmarks" / "ping-pong.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('until = "1s"', f'until = "{until}"'), encoding="utf-8")
    return path


def _session_alive(session: int) -> list[int]:
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


def io_faults(checks: Checks) -> None:
    """Outputs to a full disk, a folder that is not there or cannot be written, a size limit."""
    scenario = ROOT / "scenarios" / "shared-sockets-split-interest.toml"
    folder = checks.folder / "io"
    folder.mkdir()
    for flag in ("--trace", "--csv", "--chrome", "--plot", "--junit-xml"):
        target = "/dev/full" if flag != "--plot" else "/dev/full.png"
        got = command(["run", str(scenario), "--quiet", flag, target], folder)
        checks.clean_failure(f"run {flag} {target}", got, 2, target)
        for place in (folder / "missing" / "x.out", Path("/proc/x.out")):
            name = str(place.with_suffix(".png")) if flag == "--plot" else str(place)
            got = command(["run", str(scenario), "--quiet", flag, name], folder)
            checks.clean_failure(f"run {flag} {name}", got, 2, name)
    long = _long_run(folder, "2s")

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    for extra in (["--trace", "t.jsonl"], ["--trace", "t.jsonl", "--stream"], ["--csv", "t.csv"]):
        what = f"run {' '.join(extra)} under ulimit -f (200 kB)"
        got = command(["run", str(long), "--quiet", *extra], folder, preexec_fn=small_files)
        checks.clean_failure(what, got, 2, extra[1])
        checks.nothing_left(what, folder, {"long.toml"})
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*CLI, "run", str(scenario)], stdout=full, stderr=subprocess.PIPE, text=True
        )
    checks.clean_failure(
        "run > /dev/full", Command(done.returncode, "", done.stderr, 0), 2, "No space left"
    )


def interrupts(checks: Checks) -> None:
    """Ctrl-C (SIGINT to the process group, once or three times) during run, a streamed
    run and a sweep with two workers; a reader of the output that goes away."""
    folder = checks.folder / "signals"
    folder.mkdir()
    long = _long_run(folder)
    for argv, times in (
        (["run", str(long), "--quiet", "--trace", "t.jsonl"], 1),
        (["run", str(long), "--quiet", "--stream", "--trace", "t.jsonl"], 1),
        (["run", str(long), "--trace", "t.jsonl", "--csv", "t.csv"], 3),
        (["sweep", str(long), "--runs", "20"], 1),
        (["sweep", str(long), "--runs", "200", "--jobs", "2"], 1),
        (["sweep", str(long), "--runs", "200", "--jobs", "2"], 3),
    ):
        what = f"Ctrl-C x{times} during {' '.join(a if a != str(long) else 'FILE' for a in argv)}"
        checks.tried.append(what)
        proc = subprocess.Popen(
            [*CLI, *argv],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        time.sleep(3)
        start = time.monotonic()
        for _ in range(times):
            os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.05)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            checks.findings.append(Finding("hang", what, "still running 20 s after Ctrl-C"))
            continue
        took = time.monotonic() - start
        checks.numbers[what] = f"stopped in {took:.2f} s"
        time.sleep(0.5)
        alive = _session_alive(proc.pid)
        if alive:
            for pid in alive:
                os.kill(pid, signal.SIGKILL)
        checks.expect(what, not alive, "exit", f"processes left running: {alive}")
        checks.expect(what, took < 1.5, "hang", f"took {took:.2f} s to stop")
        checks.clean_failure(what, Command(proc.returncode, "", err, took), 130, "interrupted")
        checks.nothing_left(what, folder, {"long.toml"})
    # a worker killed (as the kernel's out-of-memory killer would): one line, exit 2
    what = "SIGKILL to a worker of sweep --jobs 2"
    checks.tried.append(what)
    proc = subprocess.Popen(
        [*CLI, "sweep", str(long), "--runs", "200", "--jobs", "2"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(3)
    workers = [p for p in _session_alive(proc.pid) if p != proc.pid]
    if workers:
        os.kill(workers[0], signal.SIGKILL)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        checks.findings.append(Finding("hang", what, "still running 20 s after"))
    else:
        time.sleep(0.5)
        alive = _session_alive(proc.pid)
        checks.expect(what, bool(workers) and not alive, "exit", f"workers {workers}, left {alive}")
        checks.clean_failure(what, Command(proc.returncode, "", err, 0), 2, "worker process died")
    # a reader that stops early: the run's own exit code (1: an expectation fails) stays
    failing = folder / "failing.toml"
    failing.write_text(
        _long_run(folder, "50ms").read_text().replace("bytes = 100 }", "bytes = 100, expect = 9 }")
    )
    shell = f"{' '.join(CLI)} run {failing} | head -c 100 >/dev/null; echo ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
    checks.tried.append("run | head (SIGPIPE)")
    checks.expect("run | head", done.stdout.strip() == "1" and not done.stderr, "exit", repr(done))


def odd_arguments(checks: Checks) -> None:
    """Arguments at and past their bounds: each one line and exit 2 (or a normal run)."""
    scenario = str(ROOT / "scenarios" / "shared-sockets-split-interest.toml")
    top = str(2**64 - 1)
    for argv, code, one_line in (
        (["sweep", scenario, "--runs", str(10**12)], 2, "--runs"),
        (["sweep", scenario, "--runs", "3", "--seed", top], 2, "--seed"),
        (["run", scenario, "--seed", str(2**64)], 2, None),  # argparse: usage, then the error
        (["run", scenario, "--set", "seed=0x10"], 2, "--set"),
        (["run", scenario, "--set", "network.latency=1e308s"], 2, "--set"),
        (["sweep", scenario, "--runs", "2", "--vary", "network.recv_buffer=1.5"], 2, "--vary"),
        (["sweep", scenario, "--runs", "2", "--dask", "127.0.0.1"], 2, "--dask"),
        (["sweep", scenario, "--runs", "2", "--dask", ""], 2, "--dask"),
        (["sweep", scenario, "--runs", "2", "--plot", "t"], 2, "t:"),
        (["sweep", scenario, "--runs", "2", "--plot", "t.txt"], 2, "t.txt"),
        (["run", scenario, "--quiet", "--max-happenings", str(10**30)], 0, None),
        (["check", scenario, "--max-file-bytes", str(10**30)], 0, None),
    ):
        what = " ".join(a if a != scenario else "FILE" for a in argv)
        got = command(argv, checks.folder, timeout=60)
        checks.clean_failure(what, got, code, one_line)
    checks.nothing_left("odd arguments", checks.folder, {"io", "signals", "odd", "expensive"})


def odd_inputs(checks: Checks) -> None:
    """A FIFO with no writer, devices, a folder, a loop of links, an empty file, a huge
    sparse file under a raised limit: each a one-line message and exit 2, quickly."""
    folder = checks.folder / "odd"
    folder.mkdir()
    os.mkfifo(folder / "fifo.toml")
    (folder / "loop1").symlink_to("loop2")
    (folder / "loop2").symlink_to("loop1")
    (folder / "empty.toml").write_text("")
    with open(folder / "sparse.toml", "wb") as fh:
        fh.truncate(4 * 2**30)
    for name, extra in (
        ("fifo.toml", []),
        ("/dev/zero", []),
        ("/dev/zero", ["--max-file-bytes", str(2**40)]),
        ("/dev/urandom", ["--max-file-bytes", str(2**40)]),
        ("/dev/null", []),
        (str(folder), []),
        ("loop1", []),
        ("empty.toml", []),
        ("nosuch.toml", []),
        ("sparse.toml", []),
        ("sparse.toml", ["--max-file-bytes", str(2**40)]),
    ):
        what = f"check {name} {' '.join(extra)}".strip()
        try:
            got = command(["check", name, *extra], folder, timeout=30)
        except subprocess.TimeoutExpired:
            checks.findings.append(Finding("hang", what, "no answer in 30 s"))
            continue
        checks.clean_failure(what, got, 2, None)
        first = got.err.splitlines()[0] if got.err else ""
        checks.expect(what, first.startswith(name), "unlocated", f"stderr: {got.err[:200]!r}")
        checks.expect(what, got.seconds < 10, "hang", f"took {got.seconds:.1f} s")


#: Steps of the most expensive file: as many sends as fit in the 10 MiB size limit.
STEPS = 197_000


def expensive(checks: Checks) -> None:
    """The most expensive file the default limits allow: as many sends as fit in 10 MiB,
    over a connection whose handlers answer every FD_READ at zero latency until the
    happenings limit stops the run; check, run --quiet and run --stream, each measured."""
    folder = checks.folder / "expensive"
    folder.mkdir()
    steps = [  # 53 bytes each: the size limit binds first, at 197,000 of them
        '{at="0s",process="A",call="send",socket="s",bytes=1},',
        '{at="0s",process="B",call="send",socket="c",bytes=1},',
    ]
    head = (
        'format = "simnotify/1"\nname = "limits"\nuntil = "86400s"\nsteps = [\n'
        '{ at = "0s", process = "A", call = "WSAEventSelect", socket = "s", event = "e", '
        'events = ["FD_READ"] },\n'
        '{ at = "0s", process = "B", call = "WSAEventSelect", socket = "c", event = "e", '
        'events = ["FD_READ"] },\n'
    )
    tail = (
        ']\n[network]\nlatency = "0us"\n[processes.A]\nloop = "events"\n'
        'on.FD_READ = [{ call = "recv", bytes = "all" }, { call = "send", bytes = 1 }]\n'
        '[processes.B]\nloop = "events"\n'
        'on.FD_READ = [{ call = "recv", bytes = "all" }, { call = "send", bytes = 1 }]\n'
        '[[connection]]\nclient = "B.c"\nserver = "A.s"\n'
    )
    body = "".join(steps[i % 2] + ("\n" if i % 100 == 99 else "") for i in range(STEPS))
    path = folder / "limits.toml"
    path.write_text(head + body + "\n" + tail)
    size = path.stat().st_size
    checks.numbers["most expensive file"] = f"{size:,} bytes, {STEPS:,} steps"
    for argv in (
        ["check", str(path)],
        ["run", str(path), "--quiet"],
        ["run", str(path), "--quiet", "--stream", "--trace", str(folder / "t.jsonl")],
        ["run", str(path)],
    ):
        what = " ".join(a if a != str(path) else "FILE" for a in argv)
        got, peak = measured(argv, folder)
        checks.numbers[what] = f"{got.seconds:.1f} s, {peak / 2**20:.0f} MiB peak, exit {got.code}"
        checks.tried.append(what)
        if "Traceback" in got.err:
            checks.findings.append(Finding("traceback", what, got.err[-400:]))
        if argv[0] == "check":
            checks.expect(what, got.code == 0, "exit", f"exit {got.code}: {got.err[-300:]}")
        else:  # the loop runs until the happenings limit stops it, with a located message
            stopped = re.fullmatch(
                re.escape(str(path)) + r":\d+: processes\.[AB]: the run exceeded 5000000 "
                r"happenings at [^\n]*\n",
                got.err,
            )
            checks.expect(what, got.code == 2 and stopped is not None, "exit", got.err[-300:])
            checks.nothing_left(what, folder, {"limits.toml"})


# --- the campaign -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=20_000, help="mutated files (20,000)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the mutations (1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    ap.add_argument("--case-seconds", type=float, default=20.0, help="time bound of a case")
    ap.add_argument("--case-mb", type=int, default=3000, help="memory bound of a worker (MB)")
    ap.add_argument("--short", action="store_true", help="a few seconds: 400 cases, no faults")
    ap.add_argument("--no-faults", action="store_true", help="only the mutations")
    ap.add_argument("--no-expensive", action="store_true", help="skip the file at the limits")
    args = ap.parse_args(argv)
    if args.short:  # the faults have tests of their own (tests/test_faults.py)
        args.cases, args.no_faults, args.jobs = min(args.cases, 400), True, 1
    args.progress = sys.stderr.isatty()
    start = time.monotonic()
    total = mutations(args)
    took = time.monotonic() - start
    print(
        f"mutations: {total.cases:,} cases (seed {args.seed}) in {took:.0f} s: "
        f"{total.problems:,} refused with located problems, {total.loaded:,} loaded, "
        f"{total.runs:,} runs ({total.limited:,} stopped at {CASE_HAPPENINGS:,} records)"
    )
    print("  kinds: " + ", ".join(f"{k} {n:,}" for k, n in sorted(total.kinds.items())))
    print(f"  slowest case: {total.slowest[0]:.2f} s ({total.slowest[1]})")
    findings = list(total.findings)
    if not args.no_faults:
        with tempfile.TemporaryDirectory(prefix="campaign-") as tmp:
            checks = Checks(Path(tmp))
            steps: list[Callable[[Checks], None]] = [odd_inputs, odd_arguments]
            if not args.short:
                steps += [io_faults, interrupts]
            if not args.no_expensive:
                steps.append(expensive)
            for step in steps:
                step(checks)
            print(f"faults: {len(checks.tried)} checks")
            for what, number in checks.numbers.items():
                print(f"  {what}: {number}")
            findings += checks.findings
    classes = Counter(f.kind for f in findings)
    print(
        "findings: "
        + (", ".join(f"{k} {n}" for k, n in sorted(classes.items())) if findings else "none")
    )
    for finding in findings[:200]:
        print(f"  [{finding.kind}] {finding.what}: {finding.detail}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
