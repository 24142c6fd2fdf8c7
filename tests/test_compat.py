"""The simpy internals engine/compat.py relies on are still there and mean what it assumes:
an upgrade of simpy that changes them fails here, not deep inside a run."""

from __future__ import annotations

import simpy

from simnotify.engine.compat import Callback, ChoosingEnvironment, now_of


def test_an_event_holds_its_value_and_state_in_the_attributes_compat_sets() -> None:
    env = simpy.Environment()
    ev = env.event()
    assert ev._value is simpy.events.PENDING and not ev.triggered
    ev.succeed(42)
    assert (ev._value, ev._ok) == (42, True)
    assert ev.triggered and ev.ok and ev.value == 42


def test_a_callback_runs_once_at_its_time_in_scheduling_order() -> None:
    env = simpy.Environment()
    seen: list[tuple[int, str]] = []

    def note(what: str) -> None:
        seen.append((int(env.now), what))

    Callback(env, 5, note, ("b",))
    Callback(env, 5, note, ("c",))
    Callback(env, 0, note, ("a",))
    env.run()
    assert seen == [(0, "a"), (5, "b"), (5, "c")]


def test_the_clock_the_tracer_reads_is_the_environments_now() -> None:
    env = simpy.Environment()
    seen: list[tuple[object, object]] = []
    Callback(env, 7, lambda: seen.append((now_of(env), env.now)), ())
    env.run()
    assert seen == [(7, 7)]


def test_an_urgent_callback_goes_before_normal_events_of_its_instant() -> None:
    env = simpy.Environment()
    seen: list[str] = []
    env.timeout(0).callbacks.append(lambda _: seen.append("timeout"))
    Callback(env, 0, seen.append, ("urgent",), simpy.events.URGENT)
    env.run()
    assert seen == ["urgent", "timeout"]


def test_a_negative_delay_is_refused() -> None:
    env = simpy.Environment()
    try:
        Callback(env, -1, print, ())
    except ValueError as exc:
        assert "negative delay" in str(exc)
    else:
        raise AssertionError("a negative delay was scheduled")


def test_the_heap_holds_time_priority_id_event_entries() -> None:
    env = simpy.Environment()
    ev = env.timeout(3)
    (entry,) = env._queue
    assert len(entry) == 4 and entry[0] == 3 and entry[3] is ev
    assert isinstance(entry[1], int) and isinstance(entry[2], int)


def test_a_chooser_orders_the_events_of_one_instant_and_only_those() -> None:
    seen: list[str] = []
    asked: list[tuple[int, int]] = []

    def last(t: int, due: list[simpy.Event]) -> int:
        asked.append((t, len(due)))
        return len(due) - 1

    env = ChoosingEnvironment(last)
    for name in ("a", "b", "c"):
        Callback(env, 5, seen.append, (name,))
    Callback(env, 7, seen.append, ("d",))
    env.run()
    assert seen == ["c", "b", "a", "d"]  # always the last of what is due at 5
    assert asked == [(5, 3), (5, 2)]  # asked again for what is left at 5, never at 7 alone


def _log(env: simpy.Environment, seen: list[tuple[str, int]], name: str) -> None:
    seen.append((name, int(env.now)))


def test_a_floating_event_may_be_overtaken_within_its_window_and_then_runs_later() -> None:
    seen: list[tuple[str, int]] = []
    offered: list[list[int]] = []

    def overtake(t: int, due: list[simpy.Event]) -> int:
        offered.append(list(env.offered_at))
        return len(due) - 1

    env = ChoosingEnvironment(overtake)
    env.float(Callback(env, 5, _log, (env, seen, "f")), 10)  # due at 5, as late as 15
    Callback(env, 9, _log, (env, seen, "x"))
    Callback(env, 20, _log, (env, seen, "y"))  # beyond f's window: never before it
    env.run()
    assert seen == [("x", 9), ("f", 9), ("y", 20)]
    assert offered == [[5, 9]]  # y was never a candidate while f was pending


def test_a_floating_event_is_due_at_its_earliest_time_by_default() -> None:
    seen: list[tuple[str, int]] = []
    env = ChoosingEnvironment(lambda t, due: 0)
    env.float(Callback(env, 5, _log, (env, seen, "f")), 10)
    Callback(env, 9, _log, (env, seen, "x"))
    env.run()
    assert seen == [("f", 5), ("x", 9)]


def test_an_event_after_another_is_no_candidate_while_that_one_is_pending() -> None:
    seen: list[tuple[str, int]] = []
    env = ChoosingEnvironment(lambda t, due: len(due) - 1)
    first = Callback(env, 5, _log, (env, seen, "first"))
    env.float(Callback(env, 5, _log, (env, seen, "second")), 0, first)
    Callback(env, 5, _log, (env, seen, "other"))
    env.run()
    assert seen.index(("first", 5)) < seen.index(("second", 5))
