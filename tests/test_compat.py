"""The simpy internals engine/compat.py relies on are still there and mean what it assumes:
an upgrade of simpy that changes them fails here, not deep inside a run."""

from __future__ import annotations

import simpy

from simnotify.engine.compat import Callback, ChoosingEnvironment


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
