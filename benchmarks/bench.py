"""Engine throughput against bare simpy, sweep throughput, and a streamed run's memory.

Run: ``.venv/bin/python benchmarks/bench.py [--arrivals N] [--occurrences N] [--repeat N]``.
Prints happenings per second for the engine on a generated stress scenario (trace records
per second, verdicts excluded), events per second for a bare simpy model that dispatches
the same number of events as timeout callbacks, each the best of ``--repeat`` timings, and
their ratio (1.0 = as fast as bare simpy; higher is better); then sweep runs per second of
the hand-off race on 1 and 2 jobs; then the peak memory of a ping-pong run of
``--occurrences`` data arrivals (default 1,000,000) with its trace streamed to a temporary
file, measured in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import gc
import platform
import time

import simpy

from simnotify.engine.world import World
from simnotify.plan import Call, ConnectionPlan, Limits, Plan, ProcessPlan, Step
from simnotify.profiles import OBSERVED
from simnotify.winsock import CLOSE, READ


def stress_plan(servers: int = 100, per_server: int = 10, arrivals: int = 100_000) -> Plan:
    """``servers`` processes (half message loops, half event loops), ``per_server`` sockets
    each, and one peer sending ``arrivals`` small segments round-robin over all sockets."""
    procs = [ProcessPlan("peer")]
    conns: list[ConnectionPlan] = []
    steps: list[Step] = []
    recv_all = (Call("recv", {"socket": None, "bytes": -1}),)
    for i in range(servers):
        name = f"P{i}"
        msg = i % 2 == 0
        procs.append(ProcessPlan(name, "messages" if msg else "events", 10, {"FD_READ": recv_all}))
        for j in range(per_server):
            conns.append(ConnectionPlan(("peer", f"c{i}_{j}"), (name, f"s{j}")))
            args = {"socket": f"s{j}", "mask": READ | CLOSE}
            if msg:
                steps.append(
                    Step(
                        0,
                        name,
                        Call("WSAAsyncSelect", {**args, "window": "w", "message": "WM_SOCKET"}),
                    )
                )
            else:
                steps.append(Step(0, name, Call("WSAEventSelect", {**args, "event": "e"})))
    targets = [(c.client[1]) for c in conns]
    for k in range(arrivals):
        steps.append(
            Step(
                100 + k * 5,
                "peer",
                Call("send", {"socket": targets[k % len(targets)], "bytes": 100}),
            )
        )
    until = 100 + arrivals * 5 + 10_000
    return Plan(
        name="stress",
        until_us=until,
        processes=tuple(procs),
        connections=tuple(conns),
        steps=tuple(steps),
    )


def ping_pong_plan(pairs: int = 100, occurrences: int = 1_000_000) -> Plan:
    """``pairs`` connections whose two ends answer every FD_READ with recv and send, one
    end in a message loop and the other in an event loop, run until about ``occurrences``
    data arrivals have happened: a long run from a small plan."""
    answer = (
        Call("recv", {"socket": None, "bytes": -1}),
        Call("send", {"socket": None, "bytes": 100}),
    )
    procs, conns, steps = [], [], []
    for i in range(pairs):
        client, server = f"C{i}", f"S{i}"
        procs.append(ProcessPlan(client, "messages", 10, {"FD_READ": answer}))
        procs.append(ProcessPlan(server, "events", 10, {"FD_READ": answer}))
        conns.append(ConnectionPlan((client, "c"), (server, "s")))
        steps.append(
            Step(
                0,
                client,
                Call(
                    "WSAAsyncSelect",
                    {"socket": "c", "window": "w", "message": "WM_SOCKET", "mask": READ | CLOSE},
                ),
            )
        )
        steps.append(
            Step(
                0,
                server,
                Call("WSAEventSelect", {"socket": "s", "event": "e", "mask": READ | CLOSE}),
            )
        )
        steps.append(Step(1, client, Call("send", {"socket": "c", "bytes": 100})))
    latency = 100
    per_pair = occurrences // pairs
    return Plan(
        name="ping-pong",
        until_us=per_pair * (latency + 10),  # one arrival per latency + handling time
        processes=tuple(procs),
        connections=tuple(conns),
        steps=tuple(steps),
        limits=Limits(max_happenings=100 * occurrences),
    )


def _peak_kib() -> int:
    """This process's peak resident memory in KiB. On Linux VmHWM, because ru_maxrss of a
    child started by fork+exec still counts the parent's memory at the fork."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS


def memory_child(occurrences: int) -> None:
    """Stream a ping-pong run to a temporary file; print occurrences, records, peak RSS."""
    import tempfile

    from simnotify.runner import stream

    plan = ping_pong_plan(occurrences=occurrences)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as fh:
        start = time.perf_counter()
        done = stream(plan, fh)
        took = time.perf_counter() - start
        size = fh.tell()
    peak_kib = _peak_kib()
    print(done.kinds.get("occur", 0), done.records, size, took, peak_kib)


def bench_memory(occurrences: int) -> tuple[int, int, int, float, float]:
    """Run :func:`memory_child` in a fresh interpreter, so the peak is that run's alone."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(occurrences)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    occ, records, size, took, peak_kib = out
    return int(occ), int(records), int(size), float(took), int(peak_kib) / 1024


def bench_engine(plan: Plan) -> tuple[int, float]:
    """One run of ``plan``: its records, and its time (the end-of-run promotion included)."""
    world = World(plan, OBSERVED)
    start = time.perf_counter()
    world.run()
    took = time.perf_counter() - start
    n = len(world.trace)
    del world
    gc.collect()  # the world, its trace and cycles: gone before the next measurement
    return n, took


def bench_simpy(n: int, chains: int = 1000) -> float:
    """Bare simpy: ``n`` timeout events over ``chains`` concurrent callback chains, each
    callback scheduling the next timeout of its chain (a heap as small as the engine's)."""
    env = simpy.Environment()
    left = [n - chains]

    def cb(ev: simpy.Event) -> None:
        if left[0] > 0:
            left[0] -= 1
            env.timeout(5).callbacks.append(cb)

    start = time.perf_counter()
    for k in range(min(chains, n)):
        env.timeout(k % 5).callbacks.append(cb)
    env.run()
    return time.perf_counter() - start


def bench_sweep(jobs: int, runs: int = 400) -> float:
    """Sweep throughput (runs per second) of the hand-off race on ``jobs`` processes."""
    from concurrent.futures import ProcessPoolExecutor
    from pathlib import Path

    import simnotify as sn
    from simnotify.sweep import sweep

    sc = sn.load(Path(__file__).resolve().parent.parent / "scenarios" / "prefork-handoff-race.toml")
    start = time.perf_counter()
    if jobs == 1:
        sweep(sc, runs=runs)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            sweep(sc, runs=runs, executor=pool)
    return runs / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--arrivals", type=int, default=100_000)
    ap.add_argument("--occurrences", type=int, default=1_000_000, help="streamed memory run")
    ap.add_argument("--repeat", type=int, default=3, help="timings of each; the best is kept")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    plan = stress_plan(arrivals=args.arrivals)
    # best of --repeat for both, so a stray pause on a shared machine weighs on neither
    n, t_engine = min((bench_engine(plan) for _ in range(args.repeat)), key=lambda r: r[1])
    t_simpy = min(bench_simpy(n) for _ in range(args.repeat))
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"stress scenario: {len(plan.processes) - 1} server processes, "
        f"{2 * len(plan.connections)} sockets, {args.arrivals} data arrivals"
    )
    best = f"best of {args.repeat}"
    print(f"engine:     {n} happenings in {t_engine:.2f} s = {n / t_engine:,.0f} /s ({best})")
    print(f"bare simpy: {n} events in {t_simpy:.2f} s = {n / t_simpy:,.0f} /s ({best})")
    print(f"ratio (engine speed / bare simpy speed): {t_simpy / t_engine:.2f}")
    for jobs in (1, 2):
        print(f"sweep throughput, hand-off race, {jobs} job(s): {bench_sweep(jobs):,.0f} runs/s")
    occ, records, size, took, peak = bench_memory(args.occurrences)
    print(
        f"streamed run: {occ:,} occurrences, {records:,} records, {size / 1e6:,.0f} MB of "
        f"JSONL in {took:.1f} s; peak memory {peak:,.0f} MB"
    )


if __name__ == "__main__":
    main()
