"""The engine's one choice point: which of the happenings due at one instant goes first.
The default is scheduling order; a chooser can take any other, and the run follows it."""

from __future__ import annotations

import simpy

import simnotify as sn
from simnotify.engine.world import World
from simnotify.oracle import Oracle
from simnotify.profiles import OBSERVED
from simnotify.runner import to_plan
from simnotify.trace import TraceKeeper

RACE = """\
format = "simnotify/1"
name = "race"
until = "10ms"
steps = [
  { at = "0ms", process = "A", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ"] },
  { at = "1900us", process = "peer", call = "send", socket = "c", bytes = 10 },
  { at = "2ms", process = "A", call = "recv", socket = "s", bytes = "all" },
]
[network]
latency = "100us"
[processes.A]
[processes.peer]
[[connection]]
client = "peer.c"
server = "A.s"
"""


def _run(choose: object) -> tuple[list[str], list[str]]:
    plan = to_plan(sn.loads(RACE))
    keeper, oracle = TraceKeeper(), Oracle()
    world = World(plan, OBSERVED, [keeper, oracle], choose=choose)  # type: ignore[arg-type]
    world.run()
    calls = [
        f"{r.call}->{r.result if r.error is None else r.error}"
        for r in keeper.trace
        if r.kind == "call"
    ]
    found = [f"{v.kind} {v.event or ''}".strip() for v in oracle.finish({})]
    return calls, found


def test_the_default_order_is_the_order_of_scheduling() -> None:
    first = _run(lambda t, due: 0)
    plain = _run(None)
    assert first == plain


def test_a_chooser_can_run_the_recv_before_the_arrival_of_the_same_instant() -> None:
    asked: list[int] = []

    def wake_first(t: int, due: list[simpy.Event]) -> int:
        """At 2ms: the step feeder first (it wakes A), then A before the arrival."""
        asked.append(t)
        return len(due) - 1 if asked.count(2000) == 2 else 0

    (calls_first, _), (calls_other, _) = _run(lambda t, due: 0), _run(wake_first)
    assert "recv->10" in calls_first  # the bytes arrived at 2ms, before the recv
    assert "recv->WSAEWOULDBLOCK" in calls_other  # A's recv ran first at 2ms
    assert asked.count(2000) == 2
