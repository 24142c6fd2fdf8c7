"""run(): compile a scenario, run it under a profile with its observers, judge the outcome.

The engine hands its records to observers as it runs: the trace keeper (``run``) or a JSON
Lines file (``stream``), and the oracle, which judges them as they come. Inline
expectations are checked as their calls return; the oracle's verdicts and the ``[[expect]]``
tables are finished when the run ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import IO, TYPE_CHECKING

from .describe import waiting_in
from .engine.processes import SimProcess
from .engine.world import World
from .expect import InlineCheck, InlineChecks, OutcomeCheck, check_outcomes, not_reached
from .gcpause import collector_paused
from .jsonl import JsonlSink, verdict_dicts, write_lines
from .oracle import Oracle
from .plan import MAIN_THREAD, Call, Plan
from .profiles import Profile, get_profile
from .result import Comparison, ProcessEnd, Result, Streamed
from .schedule import Guide, parse_witness
from .trace import Counters, Observer, TraceKeeper, TraceRecord
from .verdicts import Verdict

if TYPE_CHECKING:
    from .scenario import Scenario


def to_plan(scenario: Scenario | Plan) -> Plan:
    """A Plan from either a validated Scenario or a Plan."""
    if isinstance(scenario, Plan):
        return scenario
    from .scenario import build

    return build(scenario)


def unreached(world: World, reached: set[int]) -> list[InlineCheck]:
    """Inline expectations of this profile whose call never returned: each is a failure,
    because a check that did not run says nothing (steps first, then handlers).
    ``reached`` holds the ``id`` of every call whose expectation was checked."""
    plan, profile = world.plan, world.profile.name
    end = plan.until_us
    late = {id(st.call) for st in world.feeder.late}
    out: list[InlineCheck] = []

    def why(proc: SimProcess, call: Call, never: str) -> str:
        waiting = _waiting(proc)
        if proc.current is call and waiting:
            return f"{proc.name} was still waiting in {waiting} at the end"
        if proc.exited:
            return f"{proc.name} exited before it ran"
        if proc.current is not None and waiting:  # blocked in another call
            return f"it never ran: {proc.name} was still waiting in {waiting} at the end"
        return never

    for step in plan.steps:
        call = step.call
        if call.expect is None or id(call) in reached:
            continue
        thread = step.thread
        proc = world.threads[step.process if thread == MAIN_THREAD else f"{step.process}/{thread}"]
        never = "its time with jitter fell after until" if id(call) in late else "it never ran"
        check = not_reached(step.process, call, profile, end, why(proc, call, never))
        if check is not None:
            out.append(check)
    for pp in plan.processes:
        main = world.processes[pp.name]
        for proc in main.group:
            for key, calls in proc.handlers.items():
                for call in calls:
                    if call.expect is None or id(call) in reached:
                        continue
                    never = f"the handler on.{key} of {proc.thread_label} never ran it"
                    check = not_reached(pp.name, call, profile, end, why(proc, call, never))
                    if check is not None:
                        out.append(check)
    return out


def _waiting(proc: SimProcess) -> str | None:
    return waiting_in(proc.waiting) if proc.waiting is not None else None


def _ends(world: World) -> dict[str, ProcessEnd]:
    """How each thread ended: a process with one thread under its name, the threads of
    a process with several as ``A/main``, ``A/io``."""
    return {
        p.thread_label: ProcessEnd(p.thread_label, _waiting(p), p.exited, p.received)
        for p in world.threads.values()
    }


def _blocked(world: World, ends: dict[str, ProcessEnd]) -> dict[str, str | None]:
    """What each actor still waits in at the end: each thread, the library object whose
    call (or loop) it waits in, and a process with several threads as its main thread."""
    out = {name: end.blocked for name, end in ends.items()}
    for name, main in world.processes.items():
        out[name] = ends[main.thread_label].blocked
        for t in main.group:
            what = ends[t.thread_label].blocked
            who = t.current.actor if t.current is not None and t.current.actor else t.label
            if out.get(who) is None:
                out[who] = what
            if t.current is None:  # its loop waits for every object it enumerates for
                for obj in t.book_actor.values():
                    if out.get(obj) is None:
                        out[obj] = what
    return out


def _received(world: World, ends: dict[str, ProcessEnd]) -> dict[str, int]:
    """Bytes each thread received, and each process in all."""
    out = {name: end.received for name, end in ends.items()}
    for name, main in world.processes.items():
        out[name] = sum(t.received for t in main.group)
    return out


def _totals(world: World) -> dict[str, int]:
    t = world.totals
    return {"sent": t.sent, "received": t.received, "dropped": t.dropped}


class Judged:
    """One run's world with its observers: the oracle, inline checks, and ``sinks``; with
    a ``guide``, the run follows that schedule."""

    def __init__(
        self,
        plan: Plan,
        prof: Profile,
        sinks: list[Observer],
        keep_delivered: bool,
        guide: Guide | None = None,
    ) -> None:
        self.oracle = Oracle(keep_delivered)
        self.checks = InlineChecks(prof.name)
        probe = None if guide is None else guide.probe
        self.world = World(plan, prof, [*sinks, self.oracle], self.checks, probe, guide)
        self.checks.calls = self.world.tracer
        self.guide = guide
        if guide is not None:
            guide.bind(self.world)

    def run(self) -> tuple[list[Verdict], dict[str, ProcessEnd], list[InlineCheck]]:
        world = self.world
        world.run()
        if self.guide is not None:
            self.guide.finish()
        ends = _ends(world)
        self.blocked = _blocked(world, ends)
        self.received = _received(world, ends)
        found = self.oracle.finish(self.blocked, world.holds(), world.notified())
        checks = [*self.checks.items, *unreached(world, self.checks.reached)]
        world.detach()
        return found, ends, checks

    def outcomes(self, found: list[Verdict], ends: dict[str, ProcessEnd]) -> list[OutcomeCheck]:
        world = self.world
        # each descriptor label's socket, the latest descriptor of that name winning
        sockets = {d.label: d.sock.id for p in world.processes.values() for d in p.descriptors}
        return check_outcomes(
            world.plan.expects,
            found,
            self.received,
            self.blocked,
            sockets,
            world.profile.name,
            None if self.oracle.keep_delivered else self.oracle.delivered,
        )


def _guide(schedule: str | None) -> Guide | None:
    return None if schedule is None else Guide(departures=parse_witness(schedule))


def run_plan(plan: Plan, profile: str | None = None, schedule: str | None = None) -> Result:
    """Run a compiled plan under ``profile`` (default: the plan's own), following the
    ``schedule`` witness if given (``schedule.py``; raises ScheduleError if it does not fit)."""
    prof = get_profile(profile or plan.profile)
    with collector_paused():  # the oracle, too, allocates while the trace is alive
        keeper = TraceKeeper()
        run = Judged(plan, prof, [keeper], keep_delivered=True, guide=_guide(schedule))
        found, ends, checks = run.run()
        outcomes = run.outcomes(found, ends)
        trace: list[TraceRecord] = keeper.trace
        keeper.trace = []  # the finished world is a cycle: the trace should not wait for it
        return Result(plan, prof.name, trace, checks, outcomes, ends, _totals(run.world), found)


def run(
    scenario: Scenario | Plan,
    profile: str | None = None,
    schedule: str | None = None,
    *,
    seed: int | None = None,
    set: Mapping[str, object] | None = None,
) -> Result:
    """Run a scenario under ``profile`` ("observed" or "documented"; default its own),
    following the ``schedule`` witness of ``explore`` if given. ``seed`` and ``set``
    (``{"network.latency": "200us"}``) are ``run --seed`` and ``--set``: they replay one
    run of a sweep."""
    return run_plan(with_overrides(to_plan(scenario), seed, set), profile, schedule)


def with_overrides(plan: Plan, seed: int | None, values: Mapping[str, object] | None) -> Plan:
    """``plan`` with parameters changed (``--set``), then its seed (``--seed``)."""
    if values:
        from .sweep import set_parameter  # the sweep's parameters; sweep.py runs plans

        for key, value in values.items():
            plan = set_parameter(plan, key, str(value))
    return plan if seed is None else replace(plan, seed=seed)


def stream(
    scenario: Scenario | Plan,
    out: IO[str] | None,
    profile: str | None = None,
    schedule: str | None = None,
) -> Streamed:
    """Run with the trace written to ``out`` as JSON Lines while it runs (or to nowhere,
    with ``out=None``), keeping none of it in memory: for runs too long to hold. Verdicts
    are judged as the records go by and written after them; delivered ones are counted,
    not kept."""
    plan = to_plan(scenario)
    prof = get_profile(profile or plan.profile)
    with collector_paused():
        return _stream(plan, prof, out, _guide(schedule))


def _stream(plan: Plan, prof: Profile, out: IO[str] | None, guide: Guide | None) -> Streamed:
    counters = Counters()
    sinks: list[Observer] = [counters]
    if out is not None:
        sinks.append(JsonlSink(out, plan.name, prof.name))
    run = Judged(plan, prof, sinks, keep_delivered=False, guide=guide)
    found, ends, checks = run.run()
    if out is not None:
        write_lines(verdict_dicts(found), out)
    return Streamed(
        plan,
        prof.name,
        sum(counters.kinds.values()),
        dict(counters.kinds),
        dict(counters.taken),
        checks,
        run.outcomes(found, ends),
        ends,
        _totals(run.world),
        found,
        dict(run.oracle.delivered),
    )


def compare(
    scenario: Scenario | Plan,
    *,
    seed: int | None = None,
    set: Mapping[str, object] | None = None,
) -> Comparison:
    """Run a scenario under both profiles, for side-by-side reading and plotting
    (``seed`` and ``set`` as for :func:`run`)."""
    plan = with_overrides(to_plan(scenario), seed, set)
    return Comparison(run_plan(plan, "observed"), run_plan(plan, "documented"))
