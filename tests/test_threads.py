"""Threads and library objects inside a process: what a user relies on when a scenario
gives a process several threads or names the objects that act."""

from __future__ import annotations

from pathlib import Path

import pytest

import simnotify as sn
from simnotify.export import chrome_trace
from simnotify.scenario import ScenarioError, loads
from simnotify.trace import Kind

ROOT = Path(__file__).resolve().parent.parent
HEAD = 'format = "simnotify/1"\nname = "t"\nuntil = "10ms"\n'
PAIR = '[[connection]]\nclient = "peer.c"\nserver = "A.s"\n[processes.peer]\n'


def _run(text: str, profile: str = "observed") -> sn.Result:
    return sn.run(loads(HEAD + text + PAIR, source="t.toml"), profile)


def _calls(res: sn.Result) -> list[tuple[int, str | None, str | None, object]]:
    return [(r.t_us, r.actor, r.call, r.result) for r in res.trace if r.kind is Kind.CALL]


def test_a_blocked_thread_does_not_stop_the_other_threads() -> None:
    res = _run(
        """steps = [
  { at = "1ms", process = "A", thread = "io", call = "recv", socket = "s", bytes = 10 },
  { at = "2ms", process = "A", call = "send", socket = "s", bytes = 5 },
  { at = "4ms", process = "peer", call = "send", socket = "c", bytes = 10 },
]
[processes.A]
[processes.A.threads.io]
"""
    )
    calls = _calls(res)
    assert (2_000, "A/main", "send", 5) in calls  # while io waits in recv
    assert (4_100, "A/io", "recv", 10) in calls
    assert res.ends["A/main"].blocked is None
    assert res.ends["A/io"].received == 10


def test_a_single_threaded_process_is_traced_as_before() -> None:
    """Who acts in a call, delivery or registration of a process with one thread and no
    named objects is the process itself, in every bundled scenario without threads."""
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        sc = sn.load(str(path))
        if any(p.threads for p in sc.processes.values()) or "actor" in path.read_text():
            continue
        res = sn.run(sc)
        for r in res.trace:
            if r.kind in (Kind.CALL, Kind.DELIVER, Kind.REGISTER):
                assert r.actor == r.process, (path.name, r.seq)


def test_a_notification_another_library_object_took_is_lost_for_the_one_that_wanted_it() -> None:
    res = sn.run(sn.load(str(ROOT / "scenarios/glib-two-gsockets-one-process.toml")))
    lost = [v for v in res.verdicts if v.kind == "lost"]
    assert {(v.process, v.event, v.by) for v in lost} == {
        ("test/gsockB", "FD_WRITE", "test/gsockA"),
        ("test/gsockB", "FD_CONNECT", "test/gsockA"),
    }
    assert all("taken by test/gsockA at 1.200ms" in v.explanation for v in lost)
    assert [v.process for v in res.verdicts if v.kind == "hang"] == ["test/gsockB"]


def test_a_duplicate_for_the_calling_process_is_usable_at_once_and_imported_once() -> None:
    res = _run(
        """steps = [
  { at = "1ms", process = "A", call = "WSADuplicateSocket", socket = "s", target = "A", info = "i" },
  { at = "1ms", process = "A", call = "WSASocket", protocol_info = "i", as = "s2", expect = "s2" },
  { at = "3ms", process = "A", call = "send", socket = "s2", bytes = 7, expect = 7 },
]
[processes.A]
"""
    )
    assert res.ok, [c.message() for c in res.failures]
    sockets = [r.call for r in res.trace if r.kind is Kind.CALL and r.call == "WSASocket"]
    assert sockets == ["WSASocket"]  # the arrival at 2 ms imports nothing more


def test_exit_thread_keeps_the_registration_and_destroys_its_windows() -> None:
    res = _run(
        """steps = [
  { at = "1ms", process = "A", thread = "io", call = "WSAAsyncSelect", socket = "s", window = "wio", events = ["FD_READ"] },
  { at = "1ms", process = "A", call = "WSAEventSelect", socket = "s", event = "e", events = [] },
  { at = "2ms", process = "A", thread = "io", call = "WSAAsyncSelect", socket = "s", window = "wio", events = ["FD_READ"] },
  { at = "3ms", process = "A", thread = "io", call = "ExitThread" },
  { at = "4ms", process = "peer", call = "send", socket = "c", bytes = 10 },
]
[processes.A]
[processes.A.threads.io]
"""
    )
    exit_call = next(r for r in res.trace if r.call == "ExitThread")
    assert exit_call.data == {"windows": ["wio"]}
    # the registration stays (W34): the data is offered to the destroyed window and dropped
    assert any(r.kind is Kind.SUPPRESS and r.reason == "window_destroyed" for r in res.trace)
    assert res.ends["A/io"].exited and not res.ends["A/main"].exited


def test_an_unknown_thread_is_a_file_error_with_a_hint() -> None:
    text = HEAD + 'steps = [{ at = "1ms", process = "A", thread = "iox", call = "exit" }]\n'
    text += "[processes.A]\n[processes.A.threads.io]\n"
    with pytest.raises(ScenarioError) as info:
        loads(text, source="t.toml")
    assert [str(p) for p in info.value.problems] == [
        "t.toml:4: steps[0].thread: unknown thread 'iox' (did you mean 'io'?) of process A"
    ]


def test_a_thread_is_a_chrome_thread_track() -> None:
    res = sn.run(sn.load(str(ROOT / "scenarios/shared-sockets-threads-remedy.toml")))
    names = {
        e["args"]["name"]
        for e in chrome_trace(res)["traceEvents"]
        if e.get("ph") == "M" and e.get("name") == "thread_name"
    }
    assert {"A/reader", "A/writer", "A/main"} <= names
