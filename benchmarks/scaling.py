"""Cost per record from 10^4 to 10^6 records, for the stages that once grew quadratically.

Run: ``.venv/bin/python benchmarks/scaling.py [--sizes 10000,100000,1000000]``.

Each case is a scenario whose length is set by ``until``; for each size the run's trace is
made once (not timed), then one stage is timed over it:

- ``oracle-reregister``: the oracle judging a server that re-registers without, then with,
  FD_READ on every round trip (each round trip ends one interest and begins another);
- ``oracle-shared``: the oracle judging a socket shared by two processes, where one keeps
  finding the data by its own recv while the other, registered but never taking anything,
  waits for every occurrence (each discovery meets a growing list of open ones);
- ``both-diff``: ``run --profile both``'s comparison of the two runs' call results, over
  the ping-pong load scenario run under both profiles.

Flat microseconds per record from row to row is the claim; a quadratic stage shows as a
column that grows tenfold per row.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
PING_PONG = HERE / "ping-pong.toml"

REREGISTER = """\
format = "simnotify/1"
name = "reregister"
title = "A server that re-registers without, then with, FD_READ on every round trip"
until = "{until}"
steps = [
  {{ at = "0us", process = "C", call = "WSAAsyncSelect", socket = "c", window = "w", events = ["FD_READ", "FD_CLOSE"] }},
  {{ at = "0us", process = "S", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ", "FD_CLOSE"] }},
  {{ at = "1us", process = "C", call = "send", socket = "c", bytes = 100 }},
]

[network]
latency = "100us"
handle_time = "10us"

[processes.C]
loop = "messages"
on.FD_READ = [{{ call = "recv", bytes = "all" }}, {{ call = "send", bytes = 100 }}]

[processes.S]
loop = "events"
on.FD_READ = [
  {{ call = "recv", bytes = "all" }},
  {{ call = "WSAEventSelect", event = "e", events = ["FD_CLOSE"] }},
  {{ call = "WSAEventSelect", event = "e", events = ["FD_READ", "FD_CLOSE"] }},
  {{ call = "send", bytes = 100 }},
]

[[connection]]
client = "C.c"
server = "S.s"
"""

SHARED = """\
format = "simnotify/1"
name = "shared"
title = "B answers on a socket shared with A, which waits for FD_READ and never takes one"
until = "{until}"
steps = [
  {{ at = "0us", process = "A", call = "WSADuplicateSocket", socket = "s", target = "B" }},
  {{ at = "0us", process = "A", call = "WSAAsyncSelect", socket = "s", window = "w", events = ["FD_READ"] }},
  {{ at = "0us", process = "C", call = "WSAAsyncSelect", socket = "c", window = "w", events = ["FD_READ", "FD_CLOSE"] }},
  {{ at = "2ms", process = "B", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ", "FD_CLOSE"] }},
  {{ at = "3ms", process = "C", call = "send", socket = "c", bytes = 100 }},
]

[network]
latency = "100us"
handle_time = "10us"
ipc_delay = "1ms"

[processes.A]

[processes.B]
loop = "events"
on.FD_READ = [{{ call = "recv", bytes = "all" }}, {{ call = "send", bytes = 100 }}]

[processes.C]
loop = "messages"
on.FD_READ = [{{ call = "recv", bytes = "all" }}, {{ call = "send", bytes = 100 }}]

[[connection]]
client = "C.c"
server = "A.s"
"""


def largest_check_text(steps: int = 200_000, exits: int = 12_000) -> str:
    """A file at the load limits: ``steps`` steps (the default limit) in under 10 MiB, one
    inline table each, every send naming a descriptor the check must find created."""
    sends = ['{at="0s",process="A",call="send",socket="c",bytes=1}'] * (steps - exits)
    ends = ['{at="1s",process="B",call="exit"}'] * exits
    return (
        'format="simnotify/1"\nname="largest"\nuntil="1s"\nsteps=[\n'
        + ",".join(sends + ends)
        + '\n]\n[processes.A]\n[processes.B]\n[[connection]]\nclient="A.c"\nserver="B.s"\n'
    )


#: records per millisecond of simulated time, to size a run (measured, rounded down)
RATES = {"oracle-reregister": 86, "oracle-shared": 68, "both-diff": 272}


def scenario_text(case: str, records: int) -> str:
    """The scenario of ``case`` long enough for about ``records`` records (per run)."""
    until = f"{max(1, records // RATES[case])}ms"
    if case == "oracle-reregister":
        return REREGISTER.format(until=until)
    if case == "oracle-shared":
        return SHARED.format(until=until)
    return PING_PONG.read_text(encoding="utf-8").replace('until = "1s"', f'until = "{until}"')


def _plan(case: str, records: int):  # type: ignore[no-untyped-def]
    from simnotify.plan import Limits
    from simnotify.runner import to_plan
    from simnotify.scenario import loads

    plan = to_plan(loads(scenario_text(case, records)))
    return replace(plan, limits=Limits(max_happenings=4 * records + 100_000))


def oracle_stage(case: str, records: int) -> tuple[int, Callable[[], object]]:
    """The kept trace's length, and the oracle judging it."""
    from simnotify.engine.world import World
    from simnotify.oracle import Oracle
    from simnotify.profiles import OBSERVED
    from simnotify.trace import TraceKeeper

    keep = TraceKeeper()
    world = World(_plan(case, records), OBSERVED, [keep])
    world.run()
    world.tracer.flush()
    trace = keep.trace
    blocked = {name: "x" if p.waiting is not None else None for name, p in world.processes.items()}

    def judge() -> object:
        oracle = Oracle()
        oracle.records(trace)
        return oracle.finish(blocked)

    return len(trace), judge


def diff_stage(records: int) -> tuple[int, Callable[[], object]]:
    """Both runs' records together, and the comparison of their call results."""
    from simnotify.report import differences
    from simnotify.runner import compare

    pair = compare(_plan("both-diff", records // 2))
    a, b = pair.observed, pair.documented
    return len(a.trace) + len(b.trace), lambda: differences(a, b)


def measure(case: str, records: int) -> tuple[int, float]:
    """(records, seconds) of one case's stage at one size."""
    n, stage = diff_stage(records) if case == "both-diff" else oracle_stage(case, records)
    gc.collect()
    start = time.perf_counter()
    stage()
    return n, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="records per run")
    ap.add_argument("--cases", default=",".join(RATES), help="which cases")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for case in args.cases.split(","):
        for size in sizes:
            n, took = measure(case, size)
            print(f"{case:<18} {n:>10,} records  {took:7.2f} s  {took / n * 1e6:6.2f} us/record")


if __name__ == "__main__":
    main()
