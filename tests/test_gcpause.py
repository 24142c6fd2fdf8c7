"""A run changes the process-wide GC thresholds only while it runs, and always restores them."""

from __future__ import annotations

import gc
import io
import threading
from dataclasses import replace
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.engine import world as world_mod
from simnotify.engine.world import SimulationLimitError
from simnotify.gcpause import RARE_FULL, rare_full_collections
from simnotify.plan import Limits

PING_PONG = Path(__file__).resolve().parent.parent / "benchmarks" / "ping-pong.toml"


def _short(until: str = "5ms") -> sn.Scenario:
    return sn.loads(PING_PONG.read_text().replace('until = "1s"', f'until = "{until}"'))


def test_thresholds_are_rare_during_a_run_and_restored_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(world_mod, "STREAM_BATCH", 100)  # hand records over mid-run
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []

    class Spy(io.StringIO):
        def writelines(self, lines: object) -> None:  # called by the sink mid-run
            seen.append(gc.get_threshold())
            super().writelines(lines)  # type: ignore[arg-type]

    sn.stream(_short(), Spy())
    assert seen and seen[0] == (before[0], before[1], RARE_FULL)
    assert gc.get_threshold() == before


def test_thresholds_are_restored_when_a_run_fails() -> None:
    before = gc.get_threshold()
    plan = sn.runner.to_plan(_short("1s"))
    with pytest.raises(SimulationLimitError):
        sn.runner.run_plan(replace(plan, limits=Limits(max_happenings=1000)))
    assert gc.get_threshold() == before


def test_overlapping_runs_in_threads_restore_the_thresholds_once_all_are_done() -> None:
    before = gc.get_threshold()
    first_inside, second_done = threading.Event(), threading.Event()

    def first() -> None:
        with rare_full_collections():
            first_inside.set()
            second_done.wait()

    t = threading.Thread(target=first)
    t.start()
    first_inside.wait()
    with rare_full_collections():
        assert gc.get_threshold()[2] == RARE_FULL
    assert gc.get_threshold()[2] == RARE_FULL  # the first run is still going
    second_done.set()
    t.join()
    assert gc.get_threshold() == before
