"""``simnotify crosscheck``: run scenarios on a real Winsock (Wine) and show each difference.

Kept apart from ``cli.py``, which only calls ``add_parser``; errors are printed here and
the function returns the exit code (0 nothing unexplained, 1 something unexplained,
2 bad input or no Wine).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..profiles import PROFILES, WINE_EVIDENCE, get_profile
from . import SETTLE_MS

# the rest is imported when the command runs, so ``simnotify --help`` starts quickly
if TYPE_CHECKING:
    from ..plan import Plan
    from .check import FileReport
    from .wine import Wine

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: The real implementations a cross-check can run on (a transcript stands for any other).
AGAINST = ("wine",)


class _BadInput(Exception):
    """Something the user can fix: printed as is, exit 2."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``crosscheck`` subcommand on the main parser's subparsers."""
    cc = sub.add_parser(
        "crosscheck",
        help="run scenarios on Wine's Winsock and show every difference",
        description="Replay each scenario's run, call by call, on a real Winsock (Wine's "
        "ws2_32, one interpreter process per simulated process) and class every "
        "difference as known (a Wine deviation the wine profile models), environment "
        "(buffer sizes) or unexplained.",
    )
    cc.add_argument("files", nargs="*", metavar="FILE")
    cc.add_argument("--against", choices=AGAINST, default="wine", help="where to run (wine)")
    cc.add_argument(
        "--profile",
        choices=tuple(PROFILES),
        default="wine",
        help="the profile whose run is replayed and compared (default wine: any "
        "difference is a signal; observed: Wine's known deviations are classed known)",
    )
    cc.add_argument(
        "--json", action="store_true", help="per file: steps compared, agreeing, differences"
    )
    cc.add_argument(
        "--record",
        action="store_true",
        help="write the command script instead of running it (for a transcript on Windows)",
    )
    cc.add_argument(
        "-o", "--output", metavar="PATH", help="--record: the script file (or a directory)"
    )
    cc.add_argument(
        "--transcript",
        metavar="T",
        help="compare FILE with a transcript recorded elsewhere instead of running Wine",
    )
    cc.add_argument(
        "--build-interp",
        metavar="EXE",
        help="also write the interpreter, compiled for Windows, to EXE (needs MinGW-w64)",
    )
    cc.add_argument(
        "--settle",
        type=int,
        default=SETTLE_MS,
        metavar="MS",
        help=f"milliseconds to wait before an observation that follows an action ({SETTLE_MS})",
    )
    cc.set_defaults(func=cmd_crosscheck)


def _load(paths: list[str]) -> list[Plan]:
    from ..scenario import ScenarioError, build, load

    plans, problems = [], []
    for path in paths:
        try:
            plans.append(build(load(path)))
        except FileNotFoundError:
            problems.append(f"{path}: no such file")
        except IsADirectoryError:
            problems.append(f"{path}: is a directory, not a scenario file")
        except OSError as exc:
            problems.append(f"{path}: cannot read it: {exc.strerror or exc}")
        except ScenarioError as exc:
            problems.extend(str(p) for p in exc.problems)
    if problems:
        raise _BadInput("\n".join(problems))
    return plans


def cmd_crosscheck(args: argparse.Namespace, out: TextIO) -> int:
    """Cross-check scenario files; see the module docstring for the exit codes."""
    from ..engine.world import SimulationLimitError
    from .wine import WineUnavailable

    try:
        return _crosscheck(args, out)
    except _BadInput as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except WineUnavailable as exc:
        print(f"crosscheck: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SimulationLimitError as exc:
        print(f"crosscheck: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _crosscheck(args: argparse.Namespace, out: TextIO) -> int:
    from .check import crosscheck_plan
    from .wine import build_interpreter

    if args.settle < 0:
        raise _BadInput(f"--settle {args.settle}: must be 0 or more milliseconds")
    if not args.files and not args.build_interp:
        raise _BadInput("crosscheck: give at least one scenario FILE (or --build-interp EXE)")
    plans = _load(args.files)
    profile = get_profile(args.profile)
    if args.build_interp:
        exe = build_interpreter(Path(args.build_interp))
        print(f"interpreter written to {exe}", file=out)
        if not plans:
            return EXIT_OK
    if args.record:
        return _record(plans, args, out)
    if args.transcript:
        if len(plans) != 1:
            raise _BadInput("--transcript compares one scenario file: give exactly one FILE")
        reports = [_from_transcript(plans[0], args)]
    else:
        with _wine() as wine:
            reports = [
                crosscheck_plan(plan, profile, wine.run_script, args.settle) for plan in plans
            ]
    if args.json:
        json.dump([r.to_json() for r in reports], out, indent=2)
        out.write("\n")
    else:
        for report in reports:
            _print_report(report, out)
        _print_total(reports, out)
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED


@contextmanager
def _wine() -> Iterator[Wine]:
    from .wine import wine_session

    with wine_session() as wine:
        yield wine


def _from_transcript(plan: Plan, args: argparse.Namespace) -> FileReport:
    from .check import compare_transcript, script_for
    from .transcript import TranscriptError, check_matches, decode_transcript, parse_transcript

    path = args.transcript
    try:
        text = decode_transcript(Path(path).read_bytes())
    except FileNotFoundError:
        raise _BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise _BadInput(f"{path}: is a directory, not a transcript") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _BadInput(f"{path}: cannot read it: {exc}") from None
    profile = get_profile(args.profile)
    script = script_for(plan, profile, args.settle)
    try:
        transcript = parse_transcript(text, path)
        check_matches(transcript, script, path, plan.source)
    except TranscriptError as exc:
        raise _BadInput(str(exc)) from None
    return compare_transcript(plan, profile, script, transcript, f"{path} ({transcript.system})")


def _record(plans: list[Plan], args: argparse.Namespace, out: TextIO) -> int:
    from .check import script_for

    profile = get_profile(args.profile)
    scripts = [(plan, script_for(plan, profile, args.settle)) for plan in plans]
    if args.output is None:
        if len(scripts) != 1:
            raise _BadInput("--record with several files writes one script each: give -o DIR")
        out.write(scripts[0][1].text())
        return EXIT_OK
    target = Path(args.output)
    if len(scripts) == 1 and not target.is_dir():
        paths = [target]
    else:
        target.mkdir(parents=True, exist_ok=True)
        paths = [target / f"{Path(plan.source).stem}.script" for plan, _ in scripts]
    for path, (_plan, script) in zip(paths, scripts, strict=True):
        path.write_text(script.text(), encoding="utf-8")
        print(f"script written to {path} ({len(script.steps)} steps)", file=out)
    return EXIT_OK


def _print_report(report: FileReport, out: TextIO) -> None:
    differ = len(report.differences)
    tail = f", {differ} differ" if differ else ""
    print(
        f"== {report.file} [{report.name}] against {report.against}, profile {report.profile}: "
        f"{report.compared} steps compared, {report.agreed} agree{tail}",
        file=out,
    )
    if report.resettled is not None:
        settle, unexplained = report.resettled
        print(
            f"  (a first run with {settle} ms of settle left {unexplained} unexplained; "
            "this is the second, slower run)",
            file=out,
        )
    cited: list[str] = []
    for d in report.differences:
        print(f"  {d.klass:<12} {d.where()}: simnotify {d.simnotify}, wine {d.other}", file=out)
        print(f"  {'':<12} {d.why}", file=out)
        cited.extend(n for n in d.sources if n not in cited)
    for name in cited:
        print(f"  evidence     {name}: {WINE_EVIDENCE[name]}", file=out)


def _print_total(reports: list[FileReport], out: TextIO) -> None:
    from .check import CLASSES, UNEXPLAINED

    compared = sum(r.compared for r in reports)
    agreed = sum(r.agreed for r in reports)
    counts = ", ".join(f"{sum(r.count(k) for r in reports)} {k}" for k in CLASSES)
    files = len(reports)
    unexplained = sum(r.count(UNEXPLAINED) for r in reports)
    verdict = "nothing unexplained" if not unexplained else f"{unexplained} unexplained"
    print(
        f"crosscheck: {files} file{'s' if files != 1 else ''}, {compared} steps compared, "
        f"{agreed} agree; differences: {counts}: {verdict}",
        file=out,
    )
