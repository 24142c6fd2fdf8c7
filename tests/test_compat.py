"""The simpy internals engine/compat.py relies on are still there and mean what it assumes:
an upgrade of simpy that changes them fails here, not deep inside a run."""

from __future__ import annotations

import simpy

from simnotify.engine.compat import Callback


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
