"""A run pauses the cycle collector only while it runs, restores it always, and leaves no
reference cycles behind (which is what makes the pause safe)."""

from __future__ import annotations

import gc
import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

import simnotify as sn
from simnotify import gcpause
from simnotify.engine import tracer as tracer_mod
from simnotify.engine.world import SimulationLimitError, World
from simnotify.gcpause import collector_paused
from simnotify.oracle import Oracle
from simnotify.plan import Limits
from simnotify.profiles import PROFILES
from simnotify.trace import TraceKeeper, TraceRecord

ROOT = Path(__file__).resolve().parent.parent
PING_PONG = ROOT / "benchmarks" / "ping-pong.toml"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def _short(until: str = "5ms") -> sn.Scenario:
    return sn.loads(PING_PONG.read_text().replace('until = "1s"', f'until = "{until}"'))


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_collector_is_off_during_a_run_and_on_after(
    monkeypatch: pytest.MonkeyPatch, collector_on: None
) -> None:
    monkeypatch.setattr(tracer_mod, "BATCH", 100)  # hand records over mid-run
    seen: list[bool] = []

    class Spy(io.StringIO):
        def writelines(self, lines: object) -> None:  # called by the sink mid-run
            seen.append(gc.isenabled())
            super().writelines(lines)  # type: ignore[arg-type]

    sn.stream(_short(), Spy())
    assert seen and not any(seen)
    assert gc.isenabled()


def test_collector_is_back_on_when_a_run_fails(collector_on: None) -> None:
    plan = sn.runner.to_plan(_short("1s"))
    with pytest.raises(SimulationLimitError):
        sn.runner.run_plan(replace(plan, limits=Limits(max_happenings=1000)))
    assert gc.isenabled()


def test_a_collector_the_user_turned_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        sn.run(_short())
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_overlapping_runs_in_threads_run_with_the_collector_on(collector_on: None) -> None:
    first_inside, second_done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            seen.append(gc.isenabled())  # alone: off
            first_inside.set()
            second_done.wait()
            seen.append(gc.isenabled())  # overlapped: on, and it stays on

    t = threading.Thread(target=first)
    t.start()
    first_inside.wait()
    with collector_paused():
        seen.append(gc.isenabled())
    second_done.set()
    t.join()
    assert seen == [False, True, True]
    assert gc.isenabled()


def test_a_thread_pool_sweep_leaves_nothing_in_the_oldest_generation(collector_on: None) -> None:
    scenario = sn.load(ROOT / "scenarios" / "prefork-handoff-race.toml")
    with ThreadPoolExecutor(max_workers=3) as pool:
        sn.sweep(scenario, runs=50, executor=pool)  # warm up: imports, caches
        before = len(gc.get_objects(generation=2))
        sn.sweep(scenario, runs=600, executor=pool)
    # 600 dead worlds would be some 150,000 objects (about 250 each); what else the test
    # process does on the side (it is shared with other tests) may add a few thousand
    assert len(gc.get_objects(generation=2)) - before < 20_000


def _records_in(objects: list[object]) -> int:
    return sum(type(o) is TraceRecord for o in objects)


def test_a_large_runs_records_skip_the_young_generations(
    monkeypatch: pytest.MonkeyPatch, collector_on: None
) -> None:
    monkeypatch.setattr(gcpause, "PROMOTE_AT", 1_000)  # _short() is a large run, then
    result = sn.run(_short())
    assert result.trace
    young = gc.get_objects(generation=0) + gc.get_objects(generation=1)
    assert _records_in(young) == 0
    assert _records_in(gc.get_objects(generation=2)) >= len(result.trace)


def test_promoted_dead_worlds_get_a_full_collection_in_the_end(
    monkeypatch: pytest.MonkeyPatch, collector_on: None
) -> None:
    monkeypatch.setattr(gcpause, "PROMOTE_AT", 1_000)
    monkeypatch.setattr(gcpause, "FULL_AFTER", 3 * len(sn.run(_short()).trace))
    fulls = gc.get_stats()[2]["collections"]
    for _ in range(6):
        sn.run(_short())
    assert gc.get_stats()[2]["collections"] > fulls


def test_a_sweeps_small_runs_leave_nothing_in_the_oldest_generation(collector_on: None) -> None:
    scenario = sn.load(ROOT / "scenarios" / "prefork-handoff-race.toml")
    sn.sweep(scenario, runs=50)  # warm up: imports, caches
    before = len(gc.get_objects(generation=2))
    sn.sweep(scenario, runs=500)
    # 500 dead worlds would be some 125,000 objects (about 250 each)
    assert len(gc.get_objects(generation=2)) - before < 20_000


def test_objects_the_program_froze_stay_frozen(collector_on: None) -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        sn.run(_short())
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()


def test_a_dropped_result_frees_its_trace_without_a_cycle_collection(
    collector_on: None,
) -> None:
    gc.collect()
    gc.disable()
    try:
        result = sn.run(_short())
        assert _records_in(gc.get_objects()) >= len(result.trace) > 0
        del result  # the finished world is garbage in a cycle, not yet collected
        assert _records_in(gc.get_objects()) == 0
    finally:
        gc.enable()


@pytest.mark.parametrize("path", [*SCENARIOS, PING_PONG], ids=lambda p: p.stem)
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_run_and_its_verdicts_make_no_reference_cycles(
    path: Path, profile: str, collector_on: None
) -> None:
    scenario = sn.load(path) if path != PING_PONG else _short("20ms")
    plan = sn.runner.to_plan(scenario)
    gc.disable()
    gc.freeze()  # what exists now is left out of the collection below (a quick one)
    try:
        keeper, oracle = TraceKeeper(), Oracle()
        world = World(plan, PROFILES[profile], [keeper, oracle])
        world.run()
        found = oracle.finish({n: "it" if p.waiting else None for n, p in world.processes.items()})
        garbage = gc.collect()  # the world is still alive: only cycles it dropped count
    finally:
        gc.unfreeze()
        gc.enable()
    assert garbage == 0
    assert keeper.trace and found is not None
