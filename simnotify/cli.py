"""Command line: ``simnotify run | check | list``.

User errors (bad scenario files, missing files, runaway runs) print a located message
and exit 2; they never show a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .console import PipeSafe
from .interrupt import EXIT_INTERRUPTED, WorkerLost, process_pool, stop_once
from .outfile import OutputError, binary_output, text_output
from .toml import TOMLDecodeError, parse_toml

# Each command imports what else it needs when it runs, so ``--help``, ``list`` and
# ``check`` start quickly (tests/test_startup.py holds them to it).
if TYPE_CHECKING:
    from concurrent.futures import Executor

    from matplotlib.figure import Figure

    from .engine.world import SimulationLimitError
    from .plan import Plan
    from .result import Result, Streamed
    from .scenario import LoadLimits, Scenario

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
PICTURES = (".png", ".svg")
BUNDLED_NOTE = ", nor a bundled scenario of that name (simnotify list)"
PROFILE_CHOICES = ("observed", "documented", "wine", "both")


class UserError(Exception):
    """A problem the user can fix; printed without a traceback, exit 2."""


def _load_plans(paths: Sequence[str], limits: LoadLimits, max_happenings: int | None) -> list[Plan]:
    from .scenario import build

    plans = [build(sc) for sc in _load_scenarios(paths, limits)]  # loading checked them all
    if max_happenings is not None:
        plans = [_with_limit(plan, max_happenings) for plan in plans]
    return plans


def _load_scenarios(paths: Sequence[str], limits: LoadLimits) -> list[Scenario]:
    """Every file loaded and checked, or a UserError listing every problem of them all."""
    from .scenario import ScenarioError, load

    scenarios: list[Scenario] = []
    problems: list[str] = []
    for given in paths:
        path = scenario_path(given)
        try:
            scenario = load(path, limits=limits)
        except FileNotFoundError:
            bundled = "" if path != given or "/" in given else BUNDLED_NOTE
            problems.append(f"{path}: no such file{bundled}")
            continue
        except IsADirectoryError:
            problems.append(f"{path}: is a directory, not a scenario file")
            continue
        except OSError as exc:  # permissions, a name too long, a loop of links, ...
            problems.append(f"{path}: cannot read it: {exc.strerror or exc}")
            continue
        except ScenarioError as exc:
            problems.extend(str(p) for p in exc.problems)
            continue
        scenarios.append(scenario)
    if problems:
        raise UserError("\n".join(problems))
    return scenarios


def _overrides(plan: Plan, args: argparse.Namespace) -> Plan:
    """``--seed`` and ``--set KEY=VALUE``: replay one run of a sweep exactly."""
    for item in getattr(args, "set", None) or []:
        from .sweep import SweepError, set_parameter

        key, eq, value = item.partition("=")
        if not eq:
            raise UserError(f"--set {item}: write KEY=VALUE, e.g. network.latency=200us")
        try:
            plan = set_parameter(plan, key.strip(), value.strip())
        except SweepError as exc:
            raise UserError(f"--set {exc}") from None
    seed = getattr(args, "seed", None)
    return plan if seed is None else replace(plan, seed=seed)


def _with_limit(plan: Plan, max_happenings: int) -> Plan:
    from .plan import Limits

    return replace(plan, limits=Limits(max_happenings=max_happenings))


def _profiles(plan: Plan, choice: str | None) -> list[str]:
    if choice is None:
        return [plan.profile]
    if choice == "both":
        return ["observed", "documented"]
    return [choice]


def _trace_path(base: str, plan: Plan, profile: str, many: bool) -> Path:
    path = Path(base)
    if not many:
        return path
    return path.with_name(f"{path.stem}.{plan.name}.{profile}{path.suffix}")


def _limit_where(plan: Plan, exc: SimulationLimitError) -> str:
    line = next((p.line for p in plan.processes if p.name == exc.process), 0)
    return f"{plan.source}:{line}: processes.{exc.process}" if line else plan.source


def _run_one(plan: Plan, profile: str, schedule: str | None = None) -> Result:
    from .engine.world import SimulationLimitError
    from .runner import run_plan
    from .schedule import ScheduleError

    try:
        return run_plan(plan, profile, schedule)
    except SimulationLimitError as exc:
        raise UserError(f"{_limit_where(plan, exc)}: {exc}") from None
    except ScheduleError as exc:
        raise UserError(f"{plan.source}: --schedule {schedule}: {exc}") from None


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    """Run scenarios; print timelines, verdicts, expectations and profile differences."""
    from .jsonl import write_trace
    from .report import (
        differences,
        files_summary,
        heading,
        summary_lines,
        timeline,
        verdict_differences,
        verdicts_json,
    )
    from .result import Result, Streamed

    files = _expand_folders(args.files)
    plans = [_overrides(p, args) for p in _load_plans(files, _limits(args), args.max_happenings)]
    if args.stream:
        _check_stream_args(args)
    if args.plot:
        _writable(Path(args.plot), PICTURES)
    runs = [(plan, _profiles(plan, args.profile)) for plan in plans]
    many = sum(len(profiles) for _, profiles in runs) > 1
    done: list[tuple[Plan, list[Result | Streamed]]] = []
    streamed_to: dict[int, Path] = {}
    for plan, profiles in runs:
        keep = not args.stream and (
            not args.quiet
            or len(profiles) > 1
            or any((args.trace, args.chrome, args.csv, args.plot))
        )
        results: list[Result | Streamed] = []
        for prof in profiles:
            if keep:
                results.append(_run_one(plan, prof, args.schedule))
            elif args.stream:
                path = _trace_path(args.trace, plan, prof, many)
                with text_output(path) as fh:
                    results.append(_judge_one(plan, prof, fh, args.schedule))
                streamed_to[id(results[-1])] = path
            else:
                results.append(_judge_one(plan, prof, None, args.schedule))
        done.append((plan, results))
    kept = [(plan, [r for r in results if isinstance(r, Result)]) for plan, results in done]
    for base, what, write in (
        (None if args.stream else args.trace, "trace", write_trace),
        (args.chrome, "Chrome trace", _write_chrome),
        (args.csv, "CSV", _write_csv),
    ):
        if base:
            for plan, whole in kept:
                for one in whole:
                    path = _trace_path(base, plan, one.profile, many)
                    with text_output(path) as fh:
                        write(one, fh)
                    if not args.json:
                        print(f"{what} written to {path}", file=out)
    if args.plot:
        for plan, whole in kept:
            path = Path(args.plot)
            if len(kept) > 1:
                path = path.with_name(f"{path.stem}.{plan.name}{path.suffix}")
            _save_plot(whole, path)
    failed = any(not res.ok for _, results in done for res in results)
    if args.junit_xml:
        from .junit import write_junit

        with text_output(Path(args.junit_xml)) as fh:
            write_junit((r for _, results in done for r in results), fh)
        if not args.json:
            print(f"JUnit XML written to {args.junit_xml}", file=out)
    if args.json:
        doc = [verdicts_json(res) for _, results in done for res in results]
        json.dump(doc, out, indent=2)
        out.write("\n")
        return EXIT_FAILED if failed else EXIT_OK
    for plan, results in done:
        for res in results:
            print(heading(res), file=out)
            if isinstance(res, Result) and not args.quiet:
                for line in timeline(res):
                    print(line, file=out)
            if isinstance(res, Streamed) and id(res) in streamed_to:
                kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(res.kinds.items()))
                print(f"trace streamed to {streamed_to[id(res)]}", file=out)
                print(f"records: {res.records:,} ({kinds})", file=out)
            for line in summary_lines(res, every=not args.quiet):
                print(line, file=out)
        pair = [r for r in results if isinstance(r, Result)]
        if len(pair) == 2:
            print(f"== differences [{plan.name}]", file=out)
            for line in verdict_differences(*pair) + differences(*pair):
                print(line, file=out)
        print(file=out)
    if len(done) > 1 or len(files) != len(args.files):
        print(files_summary(len(done), (r for _, results in done for r in results)), file=out)
    return EXIT_FAILED if failed else EXIT_OK


def _write_chrome(res: Result, fh: TextIO) -> None:
    from .export import write_chrome

    write_chrome(res, fh)


def _write_csv(res: Result, fh: TextIO) -> None:
    from .export import write_csv

    write_csv(res, fh)


def _expand_folders(paths: Sequence[str]) -> list[str]:
    """Each folder given stands for the scenario files in it and its subfolders, in order."""
    files: list[str] = []
    for given in paths:
        folder = Path(given)
        if not folder.is_dir():
            files.append(given)
            continue
        found = sorted(str(f) for f in folder.rglob("*.toml") if f.is_file())
        if not found:
            raise UserError(f"{given}: a folder with no scenario files (*.toml) in it")
        files += found
    return files


def _check_stream_args(args: argparse.Namespace) -> None:
    if not args.trace:
        raise UserError("--stream writes the trace as it runs: give the file with --trace F.jsonl")
    others = [f"--{n}" for n in ("plot", "chrome", "csv") if getattr(args, n)]
    if others:
        raise UserError(
            f"--stream keeps no trace to draw or export: drop {', '.join(others)}, or --stream"
        )


def _judge_one(plan: Plan, profile: str, fh: TextIO | None, schedule: str | None) -> Streamed:
    """A run judged as it goes, keeping no trace: to ``fh`` as JSON Lines, or nowhere."""
    from .engine.world import SimulationLimitError
    from .runner import stream
    from .schedule import ScheduleError

    try:
        return stream(plan, fh, profile, schedule)
    except SimulationLimitError as exc:
        raise UserError(f"{_limit_where(plan, exc)}: {exc}") from None
    except ScheduleError as exc:
        raise UserError(f"{plan.source}: --schedule {schedule}: {exc}") from None


def _writable(path: Path, suffixes: tuple[str, ...]) -> None:
    """Refuse an output path before a long run rather than after it."""
    if path.suffix.lower() not in suffixes:
        raise UserError(f"{path}: the picture must be {' or '.join(suffixes)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"{path}: cannot write it: no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise UserError(f"{path}: cannot write it: the folder {folder} is not writable")


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """Validate scenario files without running them (loading checks all there is)."""
    for sc in _load_scenarios(args.files, _limits(args)):
        print(f"{sc.source}: ok ({len(sc.steps)} steps, {len(sc.processes)} processes)", file=out)
    return EXIT_OK


def bundled_dir() -> Path:
    """The bundled scenarios: inside the installed package (a wheel), or beside it (a
    checkout installed for development). Never the current folder: that is the user's."""
    here = Path(__file__).resolve().parent
    for folder in (here / "scenarios", here.parent / "scenarios"):
        if folder.is_dir():
            return folder
    return here / "scenarios"


def scenario_path(name: str) -> str:
    """A file as given, or a bundled scenario by the name ``list`` prints."""
    if "/" in name or "\\" in name:
        return name
    with suppress(OSError):  # a name too long for a path, say: then it is no file either
        if Path(name).exists():
            return name
    bundled = bundled_dir() / f"{name.removesuffix('.toml')}.toml"
    return str(bundled) if bundled.is_file() else name


def _listed_title(path: Path) -> str:
    """A bundled scenario's title as ``list`` shows it, read from the TOML alone: listing
    needs no validation (``check`` does that, and the tests check every bundled file)."""
    try:
        doc = parse_toml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TOMLDecodeError):
        return "(invalid: not a readable TOML file)"
    title = doc.get("title") or doc.get("name")
    return " ".join(title.split()) if isinstance(title, str) else "(invalid: no name)"


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    """List bundled scenarios with their titles."""
    folder = bundled_dir()
    files = sorted(folder.glob("*.toml"))
    if not files:
        print(f"no scenarios in {folder}", file=out)
        return EXIT_OK
    rows = [(f.stem, _listed_title(f)) for f in files]
    width = max(len(name) for name, _ in rows)
    for name, title in rows:
        print(f"{name:<{width}}  {title}", file=out)
    return EXIT_OK


def _save_plot(results: list[Result], path: Path) -> None:
    _writable(path, PICTURES)
    from .plot import figure

    _save_figure(figure(results), path)


def _save_figure(fig: Figure, path: Path) -> None:
    from .plot import save

    with binary_output(path) as fh:
        save(fig, fh, format=path.suffix.lower()[1:], dpi=110)


def cmd_plot(args: argparse.Namespace, out: TextIO) -> int:
    """Draw the timeline of one scenario (both profiles stacked with --profile both)."""
    (plan,) = _load_plans([args.file], _limits(args), args.max_happenings)
    plan = _overrides(plan, args)
    _writable(Path(args.output), PICTURES)
    results = [_run_one(plan, prof) for prof in _profiles(plan, args.profile)]
    _save_plot(results, Path(args.output))
    from .plot import MAX_MARKS, thinned

    note = (
        f" (a long run: marks thinned and intervals merged to about {MAX_MARKS} per lane)"
        if any(thinned(r) for r in results)
        else ""
    )
    print(f"timeline written to {args.output}{note}", file=out)
    return EXIT_OK


#: A Dask scheduler's address: ``HOST:PORT`` or ``SCHEME://HOST:PORT`` (IPv6 in brackets).
_DASK_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+]*://)?(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(\d{1,5})")


def _executor(args: argparse.Namespace, stack: ExitStack) -> Executor | None:
    """The executor ``--dask``/``--jobs`` ask for, closed when ``stack`` closes."""
    if args.dask is not None and args.jobs > 1:
        raise UserError("--jobs and --dask both choose where runs go: give one of them")
    if args.dask is not None:
        return _dask(args.dask, stack)
    jobs = _jobs(args.jobs)
    if jobs > 1:
        return stack.enter_context(process_pool(jobs))
    return None


def cpus() -> int:
    """The processors this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _jobs(asked: int) -> int:
    """``--jobs``, capped at the number of CPUs: more workers than processors only add
    memory (each holds a run) and switching, never speed. The cap is said on stderr."""
    have = cpus()
    if asked > have:
        print(
            f"simnotify: --jobs {asked} capped at {have}, the number of CPUs here",
            file=sys.stderr,
        )
        return have
    return asked


def _dask(address: str, stack: ExitStack) -> Executor:
    """An executor on the Dask scheduler at ``address``, checked before connecting."""
    form = _DASK_ADDRESS.fullmatch(address)
    if form is None or not 0 < int(form.group(1)) < 65536:
        raise UserError(
            f"--dask {address!r}: give the scheduler as HOST:PORT or tcp://HOST:PORT, "
            "e.g. tcp://127.0.0.1:8786"
        )
    try:
        from distributed import Client
    except ImportError:
        raise UserError("--dask needs the dask extra: pip install 'simnotify[dask]'") from None
    try:
        client = stack.enter_context(Client(address, timeout="10s"))  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(f"--dask {address}: cannot reach the scheduler: {exc}") from None
    return client.get_executor()  # type: ignore[no-any-return]


def cmd_sweep(args: argparse.Namespace, out: TextIO) -> int:
    """Many seeded runs per value of one parameter: probabilities with 95% intervals."""
    (plan,) = _load_plans([args.file], _limits(args), args.max_happenings)
    if args.plot:
        _writable(Path(args.plot), PICTURES)
    vary = None
    if args.vary:
        key, eq, values = args.vary.partition("=")
        if not eq or not values:
            raise UserError(
                f"--vary {args.vary}: write KEY=V1,V2,... e.g. network.latency=50us,1ms"
            )
        vary = (key.strip(), [v.strip() for v in values.split(",") if v.strip()])
    from .sweep import MAX_RUNS, SEED_END

    if args.runs > MAX_RUNS:
        raise UserError(f"--runs {args.runs}: at most {MAX_RUNS:,} runs per value")
    first = plan.seed if args.seed is None else args.seed
    if first + args.runs > SEED_END:
        given = "--seed" if args.seed is not None else f"{plan.source}: seed"
        raise UserError(
            f"{given} {first} with --runs {args.runs} goes past the largest seed, 2^64-1: "
            f"start at {SEED_END - args.runs} or lower"
        )
    profiles = _profiles(plan, args.profile)
    with ExitStack() as stack:
        _sweep_tables(args, plan, vary, profiles, _executor(args, stack), out)
    key = f" --set {vary[0]}=VALUE" if vary else ""
    print(f"replay a run: simnotify run {args.file} --seed SEED{key}", file=out)
    return EXIT_OK


def _sweep_tables(
    args: argparse.Namespace,
    plan: Plan,
    vary: tuple[str, list[str]] | None,
    profiles: list[str],
    executor: Executor | None,
    out: TextIO,
) -> None:
    from .engine.world import SimulationLimitError
    from .sweep import SweepError, sweep

    try:
        for prof in profiles:
            result = sweep(
                plan, args.runs, vary, prof, executor, args.seed, progress=sys.stderr.isatty()
            )
            _table_and_plot(result.table(), result.plot, prof, len(profiles) > 1, args, out)
    except SweepError as exc:
        raise UserError(f"--vary {exc}") from None
    except SimulationLimitError as exc:
        raise UserError(f"{plan.source}: {exc}") from None


def _table_and_plot(
    lines: list[str],
    plot: Callable[[], Figure],
    profile: str,
    many: bool,
    args: argparse.Namespace,
    out: TextIO,
) -> None:
    """Print one profile's table; with ``--plot``, write its figure (``.PROFILE`` before
    the suffix when there are several)."""
    for line in lines:
        print(line, file=out)
    print(file=out)
    if args.plot:
        path = Path(args.plot)
        if many:
            path = path.with_name(f"{path.stem}.{profile}{path.suffix}")
        _save_figure(plot(), path)
        print(f"plot written to {path}", file=out)


def cmd_explore(args: argparse.Namespace, out: TextIO) -> int:
    """Every distinguishable schedule: each distinct outcome with a witness to replay."""
    from .engine.world import SimulationLimitError
    from .explore import ExploreError, explore

    (plan,) = _load_plans([args.file], _limits(args), args.max_happenings)
    if args.plot:
        _writable(Path(args.plot), PICTURES)
    results = []
    with ExitStack() as stack:
        pool = _executor(args, stack)
        for prof in _profiles(plan, args.profile):
            try:
                results.append(explore(plan, prof, args.max_schedules, args.preemptions, pool))
            except SimulationLimitError as exc:
                raise UserError(f"{_limit_where(plan, exc)}: {exc}") from None
            except ExploreError as exc:
                raise UserError(f"--preemptions: {exc}") from None
    if args.json:
        docs = [r.to_dict() for r in results]
        json.dump(docs[0] if len(docs) == 1 else docs, out, indent=2)
        out.write("\n")
        return EXIT_OK
    for res in results:
        _table_and_plot(res.table(), res.plot, res.profile, len(results) > 1, args, out)
    print(f"replay an outcome: simnotify run {args.file} --schedule WITNESS", file=out)
    return EXIT_OK


def schema_document() -> dict[str, object]:
    """The JSON Schema of scenario files, generated from the pydantic models."""
    from .scenario import Scenario

    doc = Scenario.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://simnotify.invalid/simnotify.schema.json",
        **doc,
    }


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    """Print the JSON Schema of scenario files (for editors such as Taplo)."""
    json.dump(schema_document(), out, indent=2, sort_keys=True)
    out.write("\n")
    return EXIT_OK


def _limits(args: argparse.Namespace) -> LoadLimits:
    from .scenario import LoadLimits

    base = LoadLimits()
    changes = {
        key: getattr(args, key)
        for key in ("max_file_bytes", "max_steps", "max_processes", "max_handlers", "max_problems")
        if getattr(args, key, None) is not None
    }
    if not changes:
        return base
    return replace(base, **changes)


def _seed(text: str) -> int:
    """A seed on the command line: 0 or more (a seed and its negation give the same run)."""
    from .sweep import SEED_END

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
    if not 0 <= value < SEED_END:
        raise argparse.ArgumentTypeError(f"a seed is 0 to 2^64-1, got {value}")
    return value


def _positive(text: str) -> int:
    """A limit given on the command line: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("simnotify")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


class _Version(argparse._VersionAction):
    """``--version``, the installed version looked up only when asked: looking it up
    costs a tenth of what every other command takes to start."""

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.version = f"simnotify {_version()}"
        super().__call__(*args, **kwargs)


#: Examples shown at the end of each command's ``--help``.
EXAMPLES: dict[str | None, tuple[str, ...]] = {
    None: (
        "simnotify list",
        "simnotify run shared-sockets-split-interest --profile both",
        "simnotify plot pg-walreceiver-lost-fdclose -o walreceiver.png",
        "simnotify run --help",
    ),
    "run": (
        "simnotify run scenarios/prefork-handoff-race.toml",
        "simnotify run scenarios/ --quiet --junit-xml results.xml",
        "simnotify run my.toml --profile both --trace t.jsonl --plot t.png",
        "simnotify run race.toml --seed 17 --set network.latency=200us",
    ),
    "check": ("simnotify check my.toml", "simnotify check scenarios/*.toml"),
    "list": ("simnotify list",),
    "plot": (
        "simnotify plot pg-walreceiver-lost-fdclose -o walreceiver.svg",
        "simnotify plot prefork-handoff-race -o race.png --profile both --seed 3",
    ),
    "sweep": (
        "simnotify sweep prefork-handoff-race --runs 200",
        "simnotify sweep race.toml --vary network.latency=50us,200us,1ms --jobs 2 --plot p.png",
    ),
    "explore": ("simnotify explore two-registrants-race", "simnotify explore race.toml --json"),
    "schema": ("simnotify schema > simnotify.schema.json",),
    "crosscheck": (
        "simnotify crosscheck scenarios/prefork-handoff-inherited-read.toml",
        "simnotify crosscheck --profile observed tests/conformance/observed/*.toml",
        "simnotify crosscheck my.toml --record -o my.script",
    ),
}


def _with_examples(ap: argparse.ArgumentParser, examples: Sequence[str]) -> None:
    if not examples:
        return
    ap.formatter_class = argparse.RawDescriptionHelpFormatter
    ap.epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)


def parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    ap = argparse.ArgumentParser(
        prog="simnotify",
        description="Simulate Winsock event notification on shared sockets.",
    )
    ap.add_argument("--version", action=_Version)
    sub = ap.add_subparsers(dest="command", required=True)
    limits = argparse.ArgumentParser(add_help=False)
    limits.add_argument("--max-file-bytes", type=_positive, help="largest scenario file to read")
    limits.add_argument("--max-steps", type=_positive, help="most steps a scenario may have")
    limits.add_argument("--max-processes", type=_positive, help="most processes in a scenario")
    limits.add_argument("--max-handlers", type=_positive, help="most calls in one handler list")
    limits.add_argument("--max-problems", type=_positive, help="most problems listed per file")

    run = sub.add_parser("run", parents=[limits], help="run scenarios and print what happened")
    run.add_argument("files", nargs="+", metavar="FILE")
    run.add_argument(
        "--profile", choices=PROFILE_CHOICES, help="semantic profile (default: the scenario's own)"
    )
    run.add_argument("--trace", metavar="F.jsonl", help="write the trace as JSON Lines")
    run.add_argument(
        "--stream",
        action="store_true",
        help="write the --trace file while running and keep no trace in memory (long runs; "
        "no verdicts)",
    )
    run.add_argument(
        "--chrome", metavar="F.json", help="write a Chrome trace (Perfetto, chrome://tracing)"
    )
    run.add_argument("--csv", metavar="F.csv", help="write the trace as CSV")
    run.add_argument("--quiet", action="store_true", help="no timeline, only the summary")
    run.add_argument("--json", action="store_true", help="print verdicts and failures as JSON")
    run.add_argument(
        "--junit-xml",
        metavar="F.xml",
        help="write the expectations as JUnit XML (a test case each), for CI systems",
    )
    run.add_argument("--seed", type=_seed, help="seed for random timing (replays a sweep run)")
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="change a parameter, e.g. network.latency=200us (repeatable)",
    )
    run.add_argument(
        "--schedule", metavar="WITNESS", help="follow a schedule of explore (replays its outcome)"
    )
    run.add_argument("--plot", metavar="F.png|F.svg", help="draw the timeline (per scenario)")
    run.add_argument("--max-happenings", type=_positive, help="stop a run after this many records")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", parents=[limits], help="validate scenario files")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=cmd_check)

    lst = sub.add_parser("list", help="list the bundled scenarios")
    lst.set_defaults(func=cmd_list)

    plot = sub.add_parser("plot", parents=[limits], help="draw the event timeline")
    plot.add_argument("file", metavar="FILE")
    plot.add_argument("-o", "--output", required=True, metavar="F.png|F.svg")
    plot.add_argument(
        "--profile",
        choices=PROFILE_CHOICES,
        help="semantic profile (default: the scenario's own; both: stacked)",
    )
    plot.add_argument("--max-happenings", type=_positive, help="stop a run after this many records")
    plot.add_argument("--seed", type=_seed, help="seed for random timing")
    plot.add_argument("--set", action="append", metavar="KEY=VALUE", help="change a parameter")
    plot.set_defaults(func=cmd_plot)

    sw = sub.add_parser("sweep", parents=[limits], help="probability of each outcome over runs")
    sw.add_argument("file", metavar="FILE")
    sw.add_argument("--runs", type=_positive, default=100, help="seeded runs per value (100)")
    sw.add_argument(
        "--vary",
        metavar="KEY=V1,V2,...",
        help="parameter to vary, e.g. network.latency=50us,200us,1ms",
    )
    sw.add_argument(
        "--profile", choices=PROFILE_CHOICES, help="semantic profile (default: the scenario's own)"
    )
    sw.add_argument("--seed", type=_seed, help="first seed (default: the scenario's seed)")
    sw.add_argument("--jobs", type=_positive, default=1, help="local worker processes")
    sw.add_argument("--dask", metavar="ADDRESS", help="run on a Dask scheduler")
    sw.add_argument("--plot", metavar="F.png|F.svg", help="probability against the parameter")
    sw.add_argument("--max-happenings", type=_positive, help="stop a run after this many records")
    sw.set_defaults(func=cmd_sweep)

    ex = sub.add_parser("explore", parents=[limits], help="every schedule's outcome, witnessed")
    ex.add_argument("file", metavar="FILE")
    ex.add_argument("--profile", choices=PROFILE_CHOICES, help="semantic profile (default: own)")
    ex.add_argument("--max-schedules", type=_positive, default=10_000, help="budget (10000)")
    ex.add_argument(
        "--preemptions", type=int, metavar="K", help="at most K departures per schedule"
    )
    ex.add_argument("--jobs", type=_positive, default=1, help="local worker processes")
    ex.add_argument("--dask", metavar="ADDRESS", help="run on a Dask scheduler")
    ex.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    ex.add_argument("--plot", metavar="F.png|F.svg", help="draw each outcome's witness run")
    ex.add_argument("--max-happenings", type=_positive, help="stop a run after this many records")
    ex.set_defaults(func=cmd_explore)

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.set_defaults(func=cmd_schema)

    from .crosscheck.command import add_parser as add_crosscheck  # its own package

    add_crosscheck(sub)
    _with_examples(ap, EXAMPLES[None])
    for name, command in sub.choices.items():
        _with_examples(command, EXAMPLES.get(name, ()))
    return ap


def _with_notes(text: str, exc: BaseException) -> str:
    """One line: what stopped the command, then the outputs it did not write."""
    return "; ".join([text, *getattr(exc, "__notes__", ())])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simnotify`` command."""
    try:
        with stop_once():
            args = parser().parse_args(argv)
            for console in (sys.stdout, sys.stderr):  # a title the console cannot show is escaped
                reconfigure = getattr(console, "reconfigure", None)
                if reconfigure is not None:
                    reconfigure(errors="backslashreplace")
            out = PipeSafe(sys.stdout)
            code = int(args.func(args, out))
            out.flush()  # a full disk behind standard output is reported, not lost at exit
            return code
    except (UserError, OutputError, WorkerLost) as exc:
        print(_with_notes(str(exc), exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        print(_with_notes("interrupted", exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # an output file (--trace, --plot, ...) that cannot be written
        print(f"{exc.filename or 'simnotify'}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
