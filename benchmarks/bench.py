"""Whole commands against bare simpy, measured in the same run.

Run: ``.venv/bin/python benchmarks/bench.py [--until 40ms] [--repeat 3] [--occurrences N]``.

1. bare simpy: timeout callbacks per second, as many as the stress run has records;
2. ``simnotify run stress.toml --quiet``, the whole process (start-up, loading, the run,
   the verdicts and the expectations): trace records per second of its wall time;
3. ``sn.run`` in this process (the trace kept, verdicts included), timed until
   it returns; the freeing of its result afterwards is timed and printed apart;
4. the engine alone (records counted, nothing judged);
5. a streamed run of ``--occurrences`` data arrivals with verdicts, in a fresh process:
   its peak resident memory;
6. start-up (``--startup`` runs only this): ``simnotify --help``, ``list`` and ``check`` on
   a small file, each as a whole process, against ``python -c "import simpy, pydantic"``;
   then, from ``python -X importtime``, what each command imports that takes longest;
7. ``sn.explore`` on the bundled races: schedules per second, and how many schedules the
   sleep sets spare against every order of every choice (``--explore`` runs only this).

Each ratio is records per second over bare simpy's events per second (1.0 = as fast as
bare simpy). The four are timed in interleaved rounds (simpy, engine, ``sn.run``, the
command; ``--repeat`` rounds) and each keeps its best round, so a drift in the machine's
speed reaches all of them alike. Each is timed twice over: wall seconds, and CPU seconds
(user + system, the child's for the command), which a busy shared machine inflates far
less than wall time. The stress scenario is written by
:func:`stress_text` (``--write-stress F`` saves it): 50 clients in message loops and 50
servers in event loops, ten connections each, every FD_READ answered by a recv and a send.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import simpy

from simnotify.plan import Call, ConnectionPlan, Plan, ProcessPlan, Step
from simnotify.winsock import CLOSE, READ

HERE = Path(__file__).resolve().parent
PING_PONG = HERE / "ping-pong.toml"


def stress_text(pairs: int = 50, per_pair: int = 10, until: str = "40ms") -> str:
    """The stress scenario: ``pairs`` client/server process pairs, ``per_pair`` connections
    each, clients in message loops and servers in event loops, echoing forever."""
    echo = '[{ call = "recv", bytes = "all" }, { call = "send", bytes = 100 }]'
    lines = [
        'format = "simnotify/1"',
        'name = "stress"',
        f'title = "{pairs} message-loop clients and {pairs} event-loop servers, echoing"',
        f'until = "{until}"',
        "steps = [",
    ]
    for i in range(pairs):
        for j in range(per_pair):
            lines.append(
                f'  {{ at = "0us", process = "C{i}", call = "WSAAsyncSelect", socket = "c{j}", '
                'window = "w", events = ["FD_READ", "FD_CLOSE"] },'
            )
            lines.append(
                f'  {{ at = "0us", process = "S{i}", call = "WSAEventSelect", socket = "s{j}", '
                'event = "e", events = ["FD_READ", "FD_CLOSE"] },'
            )
    for i in range(pairs):
        for j in range(per_pair):
            lines.append(
                f'  {{ at = "{1 + 7 * j}us", process = "C{i}", call = "send", '
                f'socket = "c{j}", bytes = 100 }},'
            )
    lines += ["]", "", "[network]", 'latency = "100us"', 'handle_time = "10us"', ""]
    for i in range(pairs):
        lines += [f"[processes.C{i}]", 'loop = "messages"', f"on.FD_READ = {echo}", ""]
        lines += [f"[processes.S{i}]", 'loop = "events"', f"on.FD_READ = {echo}", ""]
    for i in range(pairs):
        for j in range(per_pair):
            lines += ["[[connection]]", f'client = "C{i}.c{j}"', f'server = "S{i}.s{j}"', ""]
    return "\n".join(lines)


def stress_plan(servers: int = 100, per_server: int = 10, arrivals: int = 100_000) -> Plan:
    """The engine stress plan of earlier versions, pinned by tests/test_behaviour.py:
    ``servers`` processes (half message loops, half event loops), ``per_server`` sockets
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


def _cpu() -> float:
    """CPU seconds of this process and its finished children: a child's own work counts."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float, float]:
    """Wall and CPU seconds of one call of ``fn`` until it returns, with what earlier calls
    left collected; then the CPU seconds of dropping what it returned (``sn.run``'s result
    holds two million records, which a caller frees when it is done with them, not as
    part of the call)."""
    gc.collect()
    wall, cpu = time.perf_counter(), _cpu()
    result = fn()
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    freeing = _cpu()
    del result
    return wall, cpu, _cpu() - freeing


def interleaved(
    repeat: int, fns: dict[str, Callable[[], object]]
) -> dict[str, tuple[float, float, float]]:
    """Each function's best wall and best CPU time over ``repeat`` rounds, one call of each
    function per round, in turn, and the CPU time of freeing its result in that round."""
    best: dict[str, tuple[float, float, float]] = {}
    for _ in range(repeat):
        for label, fn in fns.items():
            wall, cpu, freeing = timed(fn)
            old = best.get(label, (wall, cpu, freeing))
            best[label] = (min(old[0], wall), min(old[1], cpu), min(old[2], freeing))
    gc.collect()
    return best


def _peak_kib() -> int:
    """This process's peak resident memory in KiB (VmHWM: ru_maxrss of a fork+exec child
    still counts its parent's memory at the fork)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def memory_child(occurrences: int) -> None:
    """Stream a ping-pong run with about ``occurrences`` data arrivals to a temporary
    file, verdicts judged as it goes; print occurrences, records, bytes, seconds, peak."""
    import simnotify as sn
    from simnotify.plan import Limits
    from simnotify.runner import to_plan

    pairs = 4  # the ping-pong file's four connections: about 9,000 arrivals per pair per s
    until_ms = occurrences * 1000 // (pairs * 9_090)
    text = PING_PONG.read_text().replace('until = "1s"', f'until = "{until_ms}ms"')
    plan = to_plan(sn.loads(text))
    plan = replace(plan, limits=Limits(max_happenings=10 * occurrences))
    with tempfile.TemporaryFile("w+", encoding="utf-8") as fh:
        start = time.perf_counter()
        done = sn.stream(plan, fh)
        took = time.perf_counter() - start
        size = fh.tell()
    found = sum(done.delivered.values()) + len(done.verdicts)
    print(done.kinds.get("occur", 0), done.records, size, took, _peak_kib(), found)


def bench_memory(occurrences: int) -> tuple[int, int, int, float, float, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(occurrences)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    occ, records, size, took, peak_kib, found = out
    return int(occ), int(records), int(size), float(took), int(peak_kib) / 1024, int(found)


#: Bundled scenarios explored by the benchmark: the two races, and two with one outcome.
EXPLORED = (
    "prefork-handoff-race",
    "two-registrants-race",
    "enum-steals-record",
    "stale-message-after-cancel",
)


def bench_explore(repeat: int = 3) -> None:
    """Explore each scenario with and without sleep sets: schedules, the best of ``repeat``
    timings of each (witnesses minimised, blocked runs included), and the reduction."""
    import simnotify as sn

    def best(fn: Callable[[], object]) -> float:
        took = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            took.append(time.perf_counter() - t0)
        return min(took)

    print(
        f"{'explore':<28} {'outcomes':>8} {'schedules':>9} {'ms':>6} {'per s':>6}"
        f" {'every order':>11} {'ms':>6} {'per s':>6} {'reduction':>9}"
    )
    for name in EXPLORED:
        plan = sn.load(HERE.parent / "scenarios" / f"{name}.toml")
        res, naive = sn.explore(plan), sn.explore(plan, reduce=False)
        assert res.exhaustive and naive.exhaustive
        t_res = best(partial(sn.explore, plan))
        t_naive = best(partial(sn.explore, plan, reduce=False))
        print(
            f"{name:<28} {len(res.outcomes):>8} {res.schedules:>9} {t_res * 1000:>6.0f} "
            f"{res.schedules / t_res:>6,.0f} {naive.schedules:>11,} {t_naive * 1000:>6.0f} "
            f"{naive.schedules / t_naive:>6,.0f} {naive.schedules / res.schedules:>8.0f}x"
        )


#: The start-up commands and their targets (times the bare ``import simpy, pydantic``).
STARTUP = (
    ("simnotify --help", ["--help"], 1.5),
    ("simnotify list", ["list"], 1.5),
    ("simnotify check (small file)", ["check", str(PING_PONG)], 2.5),
)
BASELINE = [sys.executable, "-c", "import simpy, pydantic"]


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def startup_times(repeat: int) -> tuple[float, list[tuple[str, float, float]]]:
    """The bare import's time and, per command, its time and its ratio to the bare import;
    each the best of ``repeat`` fresh processes, taken in turn. The time is the process's
    CPU time (user + system): on a machine shared with other work it is what the wall time
    would be on a quiet one, where the wall time swings with the neighbours' load."""
    commands = [[sys.executable, "-m", "simnotify", *argv] for _, argv, _ in STARTUP]
    times: list[list[float]] = [[] for _ in range(len(commands) + 1)]
    for _ in range(repeat):
        for i, cmd in enumerate([BASELINE, *commands]):
            before = _child_cpu()
            subprocess.run(cmd, check=True, capture_output=True)
            times[i].append(_child_cpu() - before)
    base = min(times[0])
    labels = [label for label, _, _ in STARTUP]
    rows = [(label, min(t), min(t) / base) for label, t in zip(labels, times[1:], strict=True)]
    return base, rows


def slowest_imports(argv: list[str], top: int = 6) -> list[tuple[str, float]]:
    """The top-level imports a command spends most on (``-X importtime``, cumulative ms)."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "simnotify", *argv],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    found = []
    for line in err.splitlines():
        _, _, rest = line.partition("import time:")
        parts = [p.strip() for p in rest.split("|")]
        if len(parts) == 3 and parts[1].isdigit() and not parts[2].startswith(" "):
            depth = len(rest.split("|")[2]) - len(rest.split("|")[2].lstrip())
            if depth <= 1:
                found.append((parts[2], int(parts[1]) / 1000))
    return sorted(found, key=lambda f: -f[1])[:top]


def bench_startup(repeat: int) -> None:
    """Print section 6: start-up against the bare import, and where the time goes."""
    base, rows = startup_times(repeat)
    print(
        f"start-up, CPU time, best of {repeat}: python -c 'import simpy, pydantic' "
        f"{base * 1000:.0f} ms"
    )
    for (label, took, ratio), (_, _, target) in zip(rows, STARTUP, strict=True):
        met = "met" if ratio <= target else "NOT met"
        print(f"  {label:<29} {took * 1000:4.0f} ms  ratio {ratio:.2f} (target {target}: {met})")
    for label, argv, _ in STARTUP:
        slow = ", ".join(f"{name} {ms:.0f}" for name, ms in slowest_imports(argv))
        print(f"  imports of {label} (ms): {slow}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--until", default="40ms", help="length of the stress run")
    ap.add_argument("--repeat", type=int, default=3, help="timings of each; the best is kept")
    ap.add_argument("--occurrences", type=int, default=1_000_000, help="streamed memory run")
    ap.add_argument("--write-stress", metavar="F", help="save the stress scenario and stop")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--explore", action="store_true", help="only the explore measurements")
    ap.add_argument("--startup", action="store_true", help="measure start-up only")
    args = ap.parse_args()
    if args.startup:
        bench_startup(max(args.repeat, 10))
        return
    if args.memory_child:
        memory_child(args.memory_child)
        return
    if args.explore:
        bench_explore(args.repeat)
        return
    text = stress_text(until=args.until)
    if args.write_stress:
        Path(args.write_stress).write_text(text, encoding="utf-8")
        return

    import simnotify as sn
    from simnotify.engine.world import World

    # the package's bytecode compiled, as `pip install` leaves it: with
    # PYTHONDONTWRITEBYTECODE set, an edited checkout would compile every module anew in
    # each whole-process run, which no installed copy does
    compileall.compile_dir(Path(sn.__file__).parent, quiet=1)
    from simnotify.profiles import OBSERVED
    from simnotify.runner import to_plan
    from simnotify.trace import Counters

    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as fh:
        fh.write(text)
    path = fh.name
    plan = to_plan(sn.load(path))

    def engine() -> int:
        world = World(plan, OBSERVED, [Counters()])
        world.run()
        return world.tracer.count

    n = engine()
    cli = [sys.executable, "-m", "simnotify", "run", path, "--quiet"]
    times = interleaved(
        args.repeat,
        {
            "bare simpy": lambda: bench_simpy(n),
            "simnotify run --quiet": lambda: subprocess.run(cli, check=True, capture_output=True),
            "sn.run (verdicts)": lambda: sn.run(plan),
            "engine alone": engine,
        },
    )
    simpy_wall, simpy_cpu, _ = times.pop("bare simpy")
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"stress scenario: 100 processes, 1000 connections, until {args.until}: {n:,} records")
    print(f"{'':<23} {'wall s':>7} {'records/s':>11} {'ratio':>6}   {'CPU s':>7} {'ratio':>6}")
    print(
        f"{'bare simpy':<23} {simpy_wall:7.2f} {n / simpy_wall:>11,.0f} {'':>6}   {simpy_cpu:7.2f}"
    )
    for label, (wall, cpu, _) in times.items():
        print(
            f"{label:<23} {wall:7.2f} {n / wall:>11,.0f} {simpy_wall / wall:6.2f}"
            f"   {cpu:7.2f} {simpy_cpu / cpu:6.2f}"
        )
    freeing = times["sn.run (verdicts)"][2]
    with_freeing = times["sn.run (verdicts)"][1] + freeing
    print(
        f"sn.run's result freed afterwards: {freeing:.2f} CPU s "
        f"(with it counted, sn.run's CPU ratio is {simpy_cpu / with_freeing:.2f})"
    )
    occ, records, size, took, peak, found = bench_memory(args.occurrences)
    print(
        f"streamed run with verdicts: {occ:,} occurrences, {records:,} records, "
        f"{found:,} verdicts, {size / 1e6:,.0f} MB of JSONL in {took:.1f} s; peak {peak:,.0f} MB"
    )
    Path(path).unlink()
    bench_startup(max(args.repeat, 10))
    bench_explore(args.repeat)


if __name__ == "__main__":
    main()
