"""Systematic exploration: run a scenario under every distinguishable schedule and report
each distinct outcome with a witness that replays it.

A schedule is the choices of one run (``schedule.py``): at every instant where more than
one happening may go next — steps of different processes, network arrivals, IPC
deliveries, loop wake-ups, and jittered happenings anywhere in their range as far as that
changes which goes first — one of them is picked. The search is a depth-first walk of
these choices with re-execution (every schedule is a fresh run from time 0) and **sleep
sets**: after the subtree under candidate *a* is done, *a* sleeps in its siblings' subtrees
until something that conflicts with it runs, because putting it first there would only
repeat a schedule already seen up to the order of commuting happenings. Two happenings
commute unless they share a process or a socket (``schedule.Footprint``).

A bound on departures from the default schedule (``preemptions``) and a budget of
schedules (``max_schedules``) keep large scenarios tractable; the result says whether the
search was exhaustive. The choices at the first choice point split the walk into tasks
for any ``concurrent.futures.Executor``; the result is the same whichever runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .plan import Plan
from .profiles import Profile, get_profile
from .result import Result
from .runner import Judged, run_plan, to_plan
from .schedule import (
    Departure,
    Footprint,
    Guide,
    ScheduleError,
    Stop,
    format_witness,
    parse_witness,
)
from .sweep import Outcome, Serial, label, outcomes_of
from .units import format_time
from .verdicts import FINDINGS, OUTCOMES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .scenario import Scenario

#: The table's line for schedules with no finding.
NONE_FOUND = "(no findings)"


class ExploreError(ValueError):
    """Explore options that cannot work; the message says why."""


@dataclass(slots=True)
class _Node:
    """A choice point on the current path of the walk."""

    t_us: int
    keys: list[int]
    times: list[int]
    chosen: int
    sleep: dict[int, Footprint]
    done: dict[int, Footprint] = field(default_factory=dict)


@dataclass(slots=True)
class _Tally:
    """What one task found: schedules run, per outcome a count and the witness with the
    fewest departures, and whether anything was left out."""

    schedules: int = 0
    blocked: int = 0
    bounded: bool = False
    budget_hit: bool = False
    outcomes: dict[frozenset[Outcome], tuple[int, list[Departure]]] = field(default_factory=dict)

    def add(self, found: frozenset[Outcome], deps: list[Departure]) -> None:
        count, best = self.outcomes.get(found, (0, deps))
        if len(deps) < len(best):
            best = deps
        self.outcomes[found] = (count + 1, best)

    def merge(self, other: _Tally) -> None:
        self.schedules += other.schedules
        self.blocked += other.blocked
        self.bounded |= other.bounded
        self.budget_hit |= other.budget_hit
        for found, (count, deps) in other.outcomes.items():
            mine, best = self.outcomes.get(found, (0, deps))
            self.outcomes[found] = (mine + count, deps if len(deps) < len(best) else best)


def _run(plan: Plan, prof: Profile, guide: Guide) -> frozenset[Outcome] | Stop:
    """One schedule's findings, or why the guide ended it early."""
    try:
        found, _, _ = Judged(plan, prof, [], keep_delivered=True, guide=guide).run()
    except Stop as stop:
        return stop
    return outcomes_of(found)


def _departures(nodes: Sequence[_Node]) -> list[Departure]:
    return [Departure(i, n.chosen, n.t_us) for i, n in enumerate(nodes) if n.chosen]


def search(
    plan: Plan,
    profile: str,
    forced: list[int],
    sleep: dict[int, Footprint],
    bound: int | None,
    budget: int,
    reduce: bool = True,
) -> _Tally:
    """Walk every schedule that starts with the ``forced`` choices (a task for an executor;
    module-level to pickle). ``sleep`` is the sleep set at the last forced choice."""
    prof = get_profile(profile)
    tally = _Tally()
    path: list[_Node] = []
    prefix, entry = list(forced), dict(sleep)
    while True:
        guide = Guide(forced=prefix, entry=entry if reduce else None, bound=bound, strict=False)
        found = _run(plan, prof, guide)
        for i, ch in enumerate(guide.choices):
            if i >= len(path):
                path.append(_Node(ch.t_us, ch.keys, ch.times, ch.chosen, ch.sleep))
        del path[len(guide.choices) :]  # a run ended early reached fewer choices
        for node in path:
            foot = guide.feet.get(node.keys[node.chosen])
            if foot is not None:
                due = node.times[node.chosen]
                node.done.setdefault(node.keys[node.chosen], replace(foot, due_us=due))
        if isinstance(found, Stop):
            tally.bounded |= found.bounded
            tally.blocked += not found.bounded
        else:
            tally.schedules += 1
            tally.add(found, _departures(path))
        if tally.schedules >= budget:
            tally.budget_hit = True
            return tally
        nxt = _backtrack(path, len(forced), bound, tally, reduce)
        if nxt is None:
            return tally
        prefix, entry = nxt


def _backtrack(
    path: list[_Node], base: int, bound: int | None, tally: _Tally, reduce: bool
) -> tuple[list[int], dict[int, Footprint]] | None:
    """The next schedule to try: at the deepest choice point with a candidate neither
    done nor asleep (nor over the bound), that candidate; None when the walk is done."""
    for i in range(len(path) - 1, base - 1, -1):
        node = path[i]
        taken = sum(1 for n in path[:i] if n.chosen)
        for k, key in enumerate(node.keys):
            if key in node.done or (reduce and key in node.sleep):
                continue
            if bound is not None and taken + (k != 0) > bound:
                tally.bounded = True
                continue
            node.chosen = k
            del path[i + 1 :]
            return [n.chosen for n in path], {**node.sleep, **node.done}
    return None


@dataclass(slots=True)
class ExploreOutcome:
    """One distinct outcome (what a sweep tallies for a run: its findings, and which
    occurrences were delivered to whom), how many schedules gave it, a minimal witness and
    what that witness reorders."""

    findings: list[str]
    delivered: list[str]
    schedules: int
    witness: str
    reordered: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The outcome for scripts (JSON)."""
        return {
            "findings": self.findings,
            "delivered": self.delivered,
            "schedules": self.schedules,
            "witness": self.witness,
            "reordered": self.reordered,
        }


@dataclass(slots=True)
class ExploreResult:
    """Every distinct outcome of a scenario's schedules, with witnesses to replay."""

    scenario: str
    profile: str
    exhaustive: bool
    schedules: int
    blocked: int
    bound: int | None
    max_schedules: int
    #: whether the budget, or the bound, left schedules out
    budget_hit: bool
    bounded: bool
    outcomes: list[ExploreOutcome]
    plan: Plan = field(repr=False)

    def replay(self, witness: str) -> Result:
        """The run a witness describes, with its trace and verdicts: what
        ``simnotify run FILE --schedule WITNESS`` runs."""
        return run_plan(self.plan, self.profile, witness)

    def to_dict(self) -> dict[str, Any]:
        """The result for scripts: ``{"exhaustive", "schedules", "outcomes"}`` and more."""
        return {
            "scenario": self.scenario,
            "profile": self.profile,
            "exhaustive": self.exhaustive,
            "schedules": self.schedules,
            "bound": self.bound,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }

    def search_line(self) -> str:
        """How far the search went, in words."""
        if self.exhaustive:
            how = "exhaustive"
        else:
            why = []
            if self.budget_hit:
                why.append(f"the budget of --max-schedules {self.max_schedules} ran out")
            if self.bounded:
                why.append(f"schedules with more than {self.bound} reorderings left out")
            how = "not exhaustive (" + ", ".join(why) + ")"
        bound = "" if self.bound is None else f", reorderings bounded at {self.bound}"
        return f"{self.schedules} schedules{bound}: {how}"

    def table(self) -> list[str]:
        """Aligned text: each outcome with its number of schedules, what was delivered,
        its witness and what the witness reorders."""
        lines = [
            f"explore [{self.scenario}] under {self.profile}: {self.search_line()}",
            f"{'schedules':>9}  outcome",
        ]
        for o in self.outcomes:
            lines.append(f"{o.schedules:>9}  {', '.join(o.findings) or NONE_FOUND}")
            if o.delivered:
                lines.append(f"{'':>9}  {', '.join(o.delivered)}")
            lines.append(f"{'':>9}  witness {o.witness}")
            lines.extend(f"{'':>9}    {line}" for line in o.reordered)
        return lines

    def plot(self) -> Figure:
        """The timeline of each outcome's witness, one panel per outcome."""
        from matplotlib.figure import Figure

        from .plot import draw

        n = len(self.outcomes)
        fig = Figure(figsize=(10, 2.6 * n + 0.4), layout="constrained")
        axes = fig.subplots(n, 1, squeeze=False)
        for ax, o in zip(axes[:, 0], self.outcomes, strict=True):
            title = f"{', '.join(o.findings) or NONE_FOUND}   (witness {o.witness})"
            draw(self.replay(o.witness), ax, title)
        return fig


def _replay_guide(
    plan: Plan, prof: Profile, deps: list[Departure]
) -> tuple[Guide, frozenset[Outcome] | Stop]:
    guide = Guide(departures=list(deps), strict=False, describe=True)
    return guide, _run(plan, prof, guide)


def _passed(guide: Guide, d: Departure) -> list[int]:
    """The candidates a departure put its choice before."""
    return guide.choices[d.choice].keys[: d.candidate]


def minimise(plan: Plan, profile: str, deps: list[Departure]) -> tuple[list[Departure], Guide]:
    """Fewer departures giving the same outcome. A happening passed over at several
    choices is held back instead, as late as it ran (one departure); then each departure
    is dropped in turn, and the drop kept when the outcome holds."""
    prof = get_profile(profile)
    guide, want = _replay_guide(plan, prof, deps)

    def holds(trial: list[Departure]) -> Guide | None:
        g, got = _replay_guide(plan, prof, trial)
        return g if got == want and not g.departures else None

    i = 0
    while i < len(deps):
        d = deps[i]
        first = guide.choices[d.choice].keys[0]
        until = guide.ran_at.get(first)
        if not d.hold and until is not None:
            rest = [
                e for e in deps[i + 1 :] if guide.choices[e.choice].keys[: e.candidate] != [first]
            ]
            trial = [*deps[:i], Departure(d.choice, 0, until, True), *rest]
            g = holds(trial) if len(trial) < len(deps) else None
            if g is not None:
                deps, guide = trial, g
        i += 1
    for i in range(len(deps) - 1, -1, -1):
        trial = deps[:i] + deps[i + 1 :]
        g = holds(trial)
        if g is not None:
            deps, guide = trial, g
    return deps, guide


def reordered(guide: Guide, deps: list[Departure]) -> list[str]:
    """What each departure of a replayed witness did, in words: "B's WSAEventSelect at
    2.000ms before the arrival of 100 bytes on S2"."""
    texts = guide.texts
    out = []
    for d in deps:
        ch = guide.choices[d.choice]
        key = ch.keys[d.candidate]
        first = texts.get(key, "a happening")
        if d.hold:
            over = guide.held_over.get(key, [])
            last = f", the last {texts.get(over[-1], 'a happening')}" if over else ""
            out.append(
                f"{first} as late as {format_time(d.t_us)} (jitter): after "
                f"{len(over)} happening{'s' if len(over) != 1 else ''}{last}"
            )
            continue
        passed = [texts.get(k, "a happening not run") for k in ch.keys[: d.candidate]]
        late = "" if ch.times[d.candidate] == ch.times[0] else " (jitter)"
        out.append(
            f"{first} at {format_time(ch.times[d.candidate])}{late} before {' and '.join(passed)}"
        )
    return out


_RANK = {kind: i for i, kind in enumerate((*FINDINGS, *OUTCOMES))}


def _labels(found: frozenset[Outcome]) -> list[str]:
    return [label(o) for o in sorted(found, key=lambda o: (_RANK[o[0]], o[1], o[2]))]


def _worst_first(item: tuple[frozenset[Outcome], Any]) -> tuple[Any, ...]:
    """Outcomes with findings first, most of the worst kinds first; then by label."""
    found = item[0]
    kinds = sorted(_RANK[o[0]] for o in found if o[0] in FINDINGS)
    return (not kinds, kinds, _labels(found))


def explore(
    scenario: Scenario | Plan,
    profile: str | None = None,
    max_schedules: int = 10_000,
    preemptions: int | None = None,
    executor: Executor | None = None,
    reduce: bool = True,
) -> ExploreResult:
    """Run every distinguishable schedule of a scenario (up to ``max_schedules``, with at
    most ``preemptions`` departures from the default each) and group them by findings.
    ``reduce=False`` turns sleep sets off (every order, for measuring the reduction)."""
    if max_schedules < 1:
        raise ExploreError("max_schedules must be at least 1")
    if preemptions is not None and preemptions < 0:
        raise ExploreError(f"{preemptions}: give 0 or more departures per schedule")
    plan = to_plan(scenario)
    prof = profile or plan.profile
    pool = executor or Serial()
    tally = _Tally()
    # the default schedule shows the first choice point; each of its candidates is a task
    first = Guide(strict=False)
    found = _run(plan, get_profile(prof), first)
    assert not isinstance(found, Stop)  # a guide with no forced choices, sleep or bound
    tasks: list[tuple[list[int], dict[int, Footprint]]] = []
    if first.choices:
        root = first.choices[0]
        feet: dict[int, Footprint] = {}
        for k in range(len(root.keys)):
            if preemptions is not None and k and preemptions == 0:
                tally.bounded = True
                continue
            tasks.append(([k], dict(feet) if reduce else {}))
            if k + 1 < len(root.keys):
                probe = Guide(forced=[k], strict=False)
                _run(plan, get_profile(prof), probe)
                feet[root.keys[k]] = replace(probe.feet[root.keys[k]], due_us=root.times[k])
    else:
        tally.schedules = 1
        tally.add(found, [])
    share = -(-max_schedules // max(1, len(tasks)))
    futures = [
        pool.submit(search, plan, prof, forced, sleep, preemptions, share, reduce)
        for forced, sleep in tasks
    ]
    for fut in futures:
        tally.merge(fut.result())
    outcomes = []
    for found_set, (count, deps) in sorted(tally.outcomes.items(), key=_worst_first):
        best, guide = minimise(plan, prof, deps)
        labels = _labels(found_set)
        outcomes.append(
            ExploreOutcome(
                [x for x in labels if not x.startswith("delivered ")],
                [x for x in labels if x.startswith("delivered ")],
                count,
                format_witness(best),
                reordered(guide, best),
            )
        )
    exhaustive = not (tally.bounded or tally.budget_hit)
    return ExploreResult(
        plan.name,
        prof,
        exhaustive,
        tally.schedules,
        tally.blocked,
        preemptions,
        max_schedules,
        tally.budget_hit,
        tally.bounded,
        outcomes,
        plan,
    )


__all__ = [
    "ExploreError",
    "ExploreOutcome",
    "ExploreResult",
    "ScheduleError",
    "explore",
    "parse_witness",
]
