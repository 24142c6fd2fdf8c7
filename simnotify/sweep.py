"""Timing sweeps: how likely is a loss, per parameter value, over many seeded runs.

Every run is independent and seeded (seed = base seed + replication index, the same
seeds for every parameter value), so a sweep gives the same table whichever
``concurrent.futures.Executor`` runs it, and any outcome can be replayed with
``simnotify run FILE --seed S --set KEY=VALUE``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from .plan import Plan
from .result import Result
from .runner import run_plan, to_plan
from .scenario.messages import error_message
from .scenario.model import Network
from .toml import TOMLDecodeError, parse_toml
from .units import parse_time
from .verdicts import FINDINGS, OUTCOMES, Verdict

#: The table's line for runs with no finding at all.
NONE_FOUND = f"(no {', '.join(FINDINGS)})"

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .scenario import Scenario

T = TypeVar("T")
#: (kind, process, event) of a finding; event "-" for process-level findings (hang).
Outcome = tuple[str, str, str]
#: Runs per task sent to an executor: amortises the cost of shipping the plan.
BATCH = 50
_TIME_KEYS = ("latency", "ipc_delay", "handle_time")
_MARKERS = ("o", "s", "^", "D", "v")
_DASHES = ("-", "--", ":", "-.")
_INT_KEYS = ("recv_buffer", "send_buffer")
#: One past the largest seed: seeds are 64-bit, in a file, on the command line, in a sweep.
SEED_END = 2**64
#: Most runs per value: a million runs take minutes; far more would only fill memory
#: with queued tasks before the first result.
MAX_RUNS = 1_000_000


class SweepError(ValueError):
    """A ``--vary``/``--set`` the scenario cannot take; the message says why."""


def set_parameter(plan: Plan, key: str, value: str) -> Plan:
    """``plan`` with one parameter changed: ``network.latency``, ``network.recv_buffer``,
    ``processes.NAME.handle_time``, ``seed`` ... (values as in scenario files)."""
    parts = key.split(".")
    try:
        if parts == ["seed"]:
            seed = int(value) if value.isascii() and value.isdigit() else -1
            if not 0 <= seed < SEED_END:
                raise SweepError(f"{key}={value}: a seed is an integer from 0 to 2^64-1")
            return replace(plan, seed=seed)
        if len(parts) == 2 and parts[0] == "network" and parts[1] in _TIME_KEYS:
            us = parse_time(value)[0]
            if parts[1] == "latency":
                net = replace(plan.network, latency_us=us)
            elif parts[1] == "ipc_delay":
                net = replace(plan.network, ipc_delay_us=us)
            else:
                net = replace(plan.network, handle_time_us=us)
            return replace(plan, network=net)
        if len(parts) == 2 and parts[0] == "network" and parts[1] in _INT_KEYS:
            size = _network_int(parts[1], value)
            if parts[1] == "recv_buffer":
                return replace(plan, network=replace(plan.network, recv_buffer=size))
            return replace(plan, network=replace(plan.network, send_buffer=size))
        if len(parts) == 3 and parts[0] == "processes" and parts[2] == "handle_time":
            names = [p.name for p in plan.processes]
            if parts[1] not in names:
                raise SweepError(f"{key}: no process {parts[1]!r} (processes: {', '.join(names)})")
            us = parse_time(value)[0]
            procs = tuple(
                replace(p, handle_time_us=us) if p.name == parts[1] else p for p in plan.processes
            )
            return replace(plan, processes=procs)
    except ValueError as exc:
        if isinstance(exc, SweepError):
            raise
        raise SweepError(f"{key}={value}: {exc}") from None
    known = "seed, network.latency, network.ipc_delay, network.handle_time, "
    raise SweepError(
        f"cannot vary {key!r}; known: {known}network.recv_buffer, network.send_buffer, "
        "processes.NAME.handle_time"
    )


def outcomes_of(verdicts: Iterable[Verdict], kinds: Sequence[str] = OUTCOMES) -> frozenset[Outcome]:
    """The outcomes of one run: its verdicts of these kinds, without their times."""
    return frozenset((v.kind, v.process, v.event or "-") for v in verdicts if v.kind in kinds)


def label(o: Outcome) -> str:
    """An outcome as tables show it: ``lost FD_READ for W``, ``hang W``."""
    return f"{o[0]} {o[2]} for {o[1]}" if o[2] != "-" else f"{o[0]} {o[1]}"


def _network_int(key: str, value: str) -> int:
    """``value`` read as the scenario file's ``[network] KEY = value`` is, with its message."""
    try:
        parsed: object = parse_toml(f"v = {value}")["v"]
    except TOMLDecodeError:
        parsed = value  # not a TOML value: judged as the text it is
    try:
        net = Network.model_validate({key: parsed})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        raise SweepError(
            f"network.{key}={value}: {error_message(error, ('network', key))}"
        ) from None
    return int(getattr(net, key))


def _outcomes(plan: Plan, profile: str, seed: int) -> frozenset[Outcome]:
    return outcomes_of(run_plan(replace(plan, seed=seed), profile).verdicts)


def run_batch(plan: Plan, profile: str, seeds: Sequence[int]) -> list[frozenset[Outcome]]:
    """The findings of one run per seed (a task for an executor; module-level to pickle)."""
    return [_outcomes(plan, profile, s) for s in seeds]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for k successes in n runs (sound near 0 and 1)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    low = 0.0 if k == 0 else max(0.0, mid - half)
    high = 1.0 if k == n else min(1.0, mid + half)
    return low, high


@dataclass(slots=True)
class SweepRow:
    """All runs at one parameter value."""

    value: str
    runs: int
    counts: dict[Outcome, int] = field(default_factory=dict)
    example: dict[Outcome, int] = field(default_factory=dict)  # first seed showing it
    clean_example: int | None = None  # a seed with no lost, stale, spurious or hang

    def probability(self, outcome: Outcome) -> tuple[float, float, float]:
        """(estimate, low, high) of the share of runs showing ``outcome``."""
        k = self.counts.get(outcome, 0)
        low, high = wilson(k, self.runs)
        return k / self.runs if self.runs else 0.0, low, high


@dataclass(slots=True)
class SweepResult:
    """The table of a sweep: one row per parameter value."""

    scenario: str
    profile: str
    parameter: str | None
    seeds: tuple[int, int]
    rows: list[SweepRow]
    plan: Plan = field(repr=False)  # the scenario as swept, for replay

    def replay(self, value: str, seed: int) -> Result:
        """The sweep's run at one row's ``value`` and ``seed``, with its trace and verdicts:
        what ``simnotify run FILE --seed SEED --set KEY=VALUE`` runs."""
        if value not in [row.value for row in self.rows]:
            known = ", ".join(row.value for row in self.rows)
            raise SweepError(f"no row {value!r} in this sweep (rows: {known})")
        plan = self.plan
        if self.parameter is not None:
            plan = set_parameter(plan, self.parameter, value)
        return run_plan(replace(plan, seed=seed), self.profile)

    def outcomes(self) -> list[Outcome]:
        """Every outcome seen in any row, problems first."""
        rank = {kind: i for i, kind in enumerate((*FINDINGS, *OUTCOMES))}
        seen = {o for row in self.rows for o in row.counts}
        return sorted(seen, key=lambda o: (rank.get(o[0], len(rank)), o[1], o[2]))

    def table(self) -> list[str]:
        """Aligned text: value, outcome, probability with 95% interval, example seed."""
        head = self.parameter or "value"
        lines = [
            f"sweep [{self.scenario}] under {self.profile}: {self.rows[0].runs if self.rows else 0}"
            f" runs per value, seeds {self.seeds[0]}..{self.seeds[1]}",
            f"{head:<22} {'outcome':<32} {'P':>6}  {'95% interval':<15} example seed",
        ]
        for row in self.rows:
            first = True
            for o in self.outcomes():
                p, low, high = row.probability(o)
                seed = row.example.get(o)
                value = row.value if first else ""
                lines.append(
                    f"{value:<22} {label(o):<32} {p:>6.3f}  [{low:.3f}, {high:.3f}]  "
                    f"{seed if seed is not None else '-'}"
                )
                first = False
            clean = "-" if row.clean_example is None else str(row.clean_example)
            lines.append(f"{'':<22} {NONE_FOUND:<32} {'':>6}  {'':<15} {clean}")
        return lines

    def _positions(self) -> list[float] | None:
        """The rows' values on a numeric scale (microseconds, bytes, seeds), if they have one."""
        if self.parameter is None:
            return None
        key = self.parameter.rsplit(".", 1)[-1]
        try:
            if key in _TIME_KEYS:
                return [float(parse_time(row.value)[0]) for row in self.rows]
            return [float(int(row.value)) for row in self.rows]
        except ValueError:
            return None

    def plot(self, outcomes: Iterable[Outcome] | None = None) -> Figure:
        """Probability (with 95% intervals) of each loss, hang and stall against the parameter."""
        from matplotlib.figure import Figure

        chosen = (
            list(outcomes)
            if outcomes is not None
            else [o for o in self.outcomes() if o[0] in ("lost", "hang", "stall")]  # losses, waits
        )
        fig = Figure(figsize=(7, 3.5), layout="constrained")
        ax = fig.subplots()
        xs = self._positions()
        if xs is None:
            xs = list(range(len(self.rows)))  # values without a scale: side by side
        elif min(xs) > 0 and max(xs) >= 10 * min(xs):
            ax.set_xscale("log")
        for n, o in enumerate(chosen):
            est = [row.probability(o) for row in self.rows]
            ys = [e[0] for e in est]
            err = [
                [y - e[1] for y, e in zip(ys, est, strict=True)],
                [e[2] - y for y, e in zip(ys, est, strict=True)],
            ]
            ax.errorbar(
                xs,
                ys,
                yerr=err,
                capsize=3,
                label=label(o),
                # outcomes of one race coincide: a marker and dash of its own keeps each seen
                marker=_MARKERS[n % len(_MARKERS)],
                linestyle=_DASHES[n % len(_DASHES)],
                markerfacecolor="none" if n % 2 else None,
            )
        ax.set_xticks(xs, [row.value for row in self.rows])
        ax.minorticks_off()
        ax.set_xlabel(self.parameter or "value")
        ax.set_ylabel("probability per run")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(
            f"{self.scenario} ({self.profile}), {self.rows[0].runs} runs per value", fontsize=10
        )
        if chosen:
            ax.legend(fontsize=8)
        from .plot import shown

        return shown(fig)

    def __str__(self) -> str:
        return "\n".join(self.table())

    def _repr_html_(self) -> str:
        from .html import sweep_html

        return sweep_html(self)


class Serial(Executor):
    """Runs each task at once in this process (the default executor)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        fut: Future[T] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered through the future, as executors do
            fut.set_exception(exc)
        return fut


class _Progress:
    """Runs done so far, on stderr: tqdm's bar when installed, else a counter line that
    ends with a newline, so whatever is printed next starts on a line of its own."""

    def __init__(self, total: int, enabled: bool | None) -> None:
        from .notebook import kernel

        in_notebook = kernel() is not None
        enabled = in_notebook if enabled is None else enabled
        self.total, self.done, self.enabled = total, 0, enabled
        self.bar: Any = None
        if enabled:
            try:  # tqdm is optional; in a notebook, its widget form when that works there
                if in_notebook and find_spec("ipywidgets") is not None:
                    from tqdm.notebook import tqdm
                else:
                    from tqdm import tqdm

                self.bar = tqdm(total=total, unit="run", file=sys.stderr, leave=False)
            except ImportError:
                pass

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled:
            print(f"\r{self.done}/{self.total} runs", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.done:
            print(file=sys.stderr, flush=True)


def sweep(
    scenario: Scenario | Plan,
    runs: int = 100,
    vary: tuple[str, Sequence[str]] | None = None,
    profile: str | None = None,
    executor: Executor | None = None,
    seed: int | None = None,
    progress: bool | None = None,
) -> SweepResult:
    """Run ``runs`` seeded replications per value of one varied parameter.

    ``vary`` is ``(KEY, [V1, V2, ...])``, e.g. ``("network.latency", ["50us", "1ms"])``.
    ``progress`` shows the runs done on stderr (default: in a notebook, yes).
    """
    if not 1 <= runs <= MAX_RUNS:
        raise SweepError(f"runs {runs}: 1 to {MAX_RUNS:,} runs per value")
    if vary is not None and (
        not isinstance(vary, tuple | list)
        or len(vary) != 2
        or not isinstance(vary[0], str)
        or isinstance(vary[1], str)
    ):
        raise SweepError(
            f'vary={vary!r}: give (KEY, [VALUES]), e.g. vary=("network.latency", ["1ms", "2ms"])'
        )
    if seed is not None and seed < 0:
        raise SweepError(f"seed {seed}: seeds are 0 or more (a seed and its negation give one run)")
    base = to_plan(scenario)
    prof = profile or base.profile
    first = base.seed if seed is None else seed
    if first + runs > SEED_END:
        raise SweepError(
            f"seeds {first}..{first + runs - 1}: a seed is at most 2^64-1; "
            f"start at {SEED_END - runs} or lower"
        )
    seeds = range(first, first + runs)
    if vary and not vary[1]:
        raise SweepError(f"{vary[0]}: no values to vary it over")
    values: Sequence[str | None] = list(vary[1]) if vary else [None]
    plans = [set_parameter(base, vary[0], v) if vary and v is not None else base for v in values]
    pool = executor or Serial()
    bar = _Progress(runs * len(plans), progress)
    futures = [
        [pool.submit(run_batch, plan, prof, seeds[i : i + BATCH]) for i in range(0, runs, BATCH)]
        for plan in plans
    ]
    rows = []
    for value, batch_futures in zip(values, futures, strict=True):
        row = SweepRow(value if value is not None else "(as written)", runs)
        for i, fut in zip(range(0, runs, BATCH), batch_futures, strict=True):
            got = fut.result()  # counted as it comes: no list of every run's outcomes
            bar.update(len(got))
            for s, found in zip(seeds[i : i + BATCH], got, strict=True):
                for o in found:
                    row.counts[o] = row.counts.get(o, 0) + 1
                    row.example.setdefault(o, s)
                if row.clean_example is None and not any(o[0] in FINDINGS for o in found):
                    row.clean_example = s
        rows.append(row)
    bar.close()
    return SweepResult(
        base.name, prof, vary[0] if vary else None, (seeds[0], seeds[-1]), rows, base
    )
