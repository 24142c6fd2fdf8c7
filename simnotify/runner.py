"""run(): compile a scenario, run it under a profile, evaluate expectations."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from .engine.processes import SimProcess
from .engine.world import World
from .expect import InlineCheck, check_outcomes, not_reached
from .gcpause import collector_paused
from .oracle import as_records, verdicts
from .plan import Call, Plan
from .profiles import Profile, get_profile
from .result import Comparison, ProcessEnd, Result, Streamed
from .trace import JsonlSink

if TYPE_CHECKING:
    from .scenario import Scenario


def to_plan(scenario: Scenario | Plan) -> Plan:
    """A Plan from either a validated Scenario or a Plan."""
    if isinstance(scenario, Plan):
        return scenario
    from .scenario import build

    return build(scenario)


def run_plan(plan: Plan, profile: str | None = None) -> Result:
    """Run a compiled plan under ``profile`` (default: the plan's own)."""
    prof = get_profile(profile or plan.profile)
    with collector_paused():  # the oracle, too, allocates while the trace is alive
        return _run(plan, prof)


def _ends(world: World) -> dict[str, ProcessEnd]:
    return {
        name: ProcessEnd(name, p.blocked, p.exited, p.received)
        for name, p in world.processes.items()
    }


def _totals(world: World) -> dict[str, int]:
    return {
        "sent": world.bytes_sent,
        "received": world.bytes_received,
        "dropped": world.bytes_dropped,
    }


def unreached(world: World) -> list[InlineCheck]:
    """Inline expectations of this profile whose call never returned: each is a failure,
    because a check that did not run says nothing (steps first, then handlers)."""
    plan, profile, reached = world.plan, world.profile.name, world.reached
    end = plan.until_us
    late = {id(st.call) for st in world.late}
    out: list[InlineCheck] = []

    def why(proc: SimProcess, call: Call, never: str) -> str:
        if proc.current is call and proc.blocked:
            return f"{proc.name} was still waiting in {proc.blocked} at the end"
        if proc.exited:
            return f"{proc.name} exited before it ran"
        if proc.current is not None and proc.blocked:  # blocked in another call
            return f"it never ran: {proc.name} was still waiting in {proc.blocked} at the end"
        return never

    for step in plan.steps:
        call = step.call
        if call.expect is None or id(call) in reached:
            continue
        proc = world.processes[step.process]
        never = "its time with jitter fell after until" if id(call) in late else "it never ran"
        check = not_reached(step.process, call, profile, end, why(proc, call, never))
        if check is not None:
            out.append(check)
    for pp in plan.processes:
        proc = world.processes[pp.name]
        for key, calls in pp.handlers.items():
            for call in calls:
                if call.expect is None or id(call) in reached:
                    continue
                never = f"the handler on.{key} of {pp.name} never ran it"
                check = not_reached(pp.name, call, profile, end, why(proc, call, never))
                if check is not None:
                    out.append(check)
    return out


def _run(plan: Plan, prof: Profile) -> Result:
    world = World(plan, prof)
    world.run()
    world.checks.extend(unreached(world))
    ends, totals = _ends(world), _totals(world)
    trace = world.take_trace()
    blocked = {name: end.blocked for name, end in ends.items()}
    found = verdicts(trace, blocked)
    trace.extend(as_records(found, len(trace)))
    received = {name: end.received for name, end in ends.items()}
    # each descriptor label's socket, the latest descriptor of that name winning
    sockets = {d.label: d.sock.id for p in world.processes.values() for d in p.descriptors}
    outcomes = check_outcomes(plan.expects, found, received, blocked, sockets, prof.name)
    return Result(plan, prof.name, trace, world.checks, outcomes, ends, totals, found)


def run(scenario: Scenario | Plan, profile: str | None = None) -> Result:
    """Run a scenario under ``profile`` ("observed" or "documented"; default its own)."""
    return run_plan(to_plan(scenario), profile)


def stream(scenario: Scenario | Plan, out: IO[str], profile: str | None = None) -> Streamed:
    """Run with the trace written to ``out`` as JSON Lines while it runs, keeping none of it
    in memory: for runs too long to hold. Verdicts and ``[[expect]]`` tables need the whole
    trace, so they are not computed here (``run`` does that)."""
    plan = to_plan(scenario)
    prof = get_profile(profile or plan.profile)
    sink = JsonlSink(out)
    world = World(plan, prof, sink)
    world.run()
    world.checks.extend(unreached(world))
    return Streamed(
        plan,
        prof.name,
        sink.written,
        dict(sink.kinds),
        dict(sink.taken),
        world.checks,
        _ends(world),
        _totals(world),
    )


def compare(scenario: Scenario | Plan) -> Comparison:
    """Run a scenario under both profiles, for side-by-side reading and plotting."""
    plan = to_plan(scenario)
    return Comparison(run_plan(plan, "observed"), run_plan(plan, "documented"))
