"""Engine behaviour across whole scenarios: handoff, flow control, lifetime, blocking."""

from __future__ import annotations

from pathlib import Path

import simnotify as sn
from simnotify.describe import waiting_in
from simnotify.result import Result

HANDOFF = """\
format = "simnotify/1"
name = "handoff"
until = "30ms"
steps = [
  { at = "0ms", process = "A", call = "listen", socket = "L" },
  { at = "0ms", process = "A", call = "WSAAsyncSelect", socket = "L", window = "w", events = ["FD_ACCEPT", "FD_READ", "FD_CLOSE"] },
  { at = "1ms", process = "client", call = "connect", socket = "c", to = "A.L", expect = 0 },
  { at = "3ms", process = "client", call = "send", socket = "c", bytes = 100, expect = 100 },
]

[processes.A]
loop = "messages"
on.FD_ACCEPT = [{ call = "accept", socket = "L", as = "conn" }]
on.FD_READ = [
  { call = "WSADuplicateSocket", target = "W", as = "c" },
  { call = "sleep", for = "2ms" },
  { call = "closesocket" },
]

[processes.W]
loop = "events"
on.PROTOCOL_INFO = [
  { call = "WSASocket", as = "c" },
  { call = "WSAEventSelect", socket = "c", event = "ev", events = ["FD_READ", "FD_CLOSE"] },
]
on.FD_READ = [{ call = "recv", bytes = "all" }]

[processes.client]
"""


def _run(text: str, profile: str) -> Result:
    res = sn.run(sn.loads(text), profile=profile)
    assert not res.failures, [c.message() for c in res.failures]
    return res


def test_E2_handoff_worker_hangs_under_observed_only() -> None:
    doc = _run(HANDOFF, "documented")
    obs = _run(HANDOFF, "observed")
    assert doc.ends["W"].received == 100
    assert obs.ends["W"].received == 0
    assert obs.ends["W"].blocked is not None and "WSAWaitForMultipleEvents" in obs.ends["W"].blocked
    # the acceptor consumed the inherited FD_READ in both profiles (wParam = accepted socket)
    for res in (doc, obs):
        taken = [r for r in res.trace if r.kind == "deliver" and r.process == "A"]
        assert [r.event for r in taken] == ["FD_ACCEPT", "FD_READ"]
        assert taken[1].descriptor == "A.conn1"


def test_E2_remedy_recv_after_registering_works_in_both_profiles() -> None:
    fixed = HANDOFF.replace(
        'events = ["FD_READ", "FD_CLOSE"] },\n]',
        'events = ["FD_READ", "FD_CLOSE"] },\n  { call = "recv", socket = "c", bytes = "all" },\n]',
    )
    for profile in ("documented", "observed"):
        assert _run(fixed, profile).ends["W"].received == 100


PUMP = """\
format = "simnotify/1"
name = "pump"
until = "40ms"
steps = [
  { at = "0ms", process = "S", call = "WSAAsyncSelect", socket = "s", window = "w", events = ["FD_WRITE"] },
  { at = "0ms", process = "R", call = "WSAEventSelect", socket = "r", event = "e", events = ["FD_READ"] },
]

[network]
send_buffer = 4096
recv_buffer = 4096

[processes.S]
loop = "messages"
on.FD_WRITE = [
  { call = "send", bytes = 3000 },
  { call = "send", bytes = 3000 },
  { call = "send", bytes = 3000 },
  { call = "send", bytes = 3000 },
  { call = "send", bytes = 3000 },
]

[processes.R]
loop = "events"
on.FD_READ = [{ call = "recv", bytes = "all" }]

[[connection]]
client = "S.s"
server = "R.r"
"""


def _buffered(res: Result) -> int:
    return res.totals["sent"] - res.totals["received"] - res.totals["dropped"]


def test_flow_control_rearms_fd_write_and_conserves_bytes() -> None:
    for profile in ("observed", "documented"):
        res = _run(PUMP, profile)
        writes = [r for r in res.trace if r.kind == "deliver" and r.event == "FD_WRITE"]
        blocked = [r for r in res.trace if r.kind == "call" and r.error == "WSAEWOULDBLOCK"]
        assert len(writes) > 5, profile
        assert len(blocked) >= len(writes) - 1, profile
        assert res.totals["received"] > 20_000, profile
        assert 0 <= _buffered(res) <= 4096 + 4096 + 3000, profile


#: Processes A and B and a peer connected to A.s: the tail of several scenarios below.
A_B_PEER = """
[processes.A]
[processes.B]
[processes.peer]

[[connection]]
client = "peer.c"
server = "A.s"
"""


DUP_EARLY_CLOSE = (
    """\
format = "simnotify/1"
name = "dup-early-close"
until = "10ms"
steps = [
  { at = "0ms", process = "A", call = "WSADuplicateSocket", socket = "s", target = "B" },
  { at = "0ms", process = "A", call = "closesocket", socket = "s", expect = 0 },
  { at = "3ms", process = "peer", call = "send", socket = "c", bytes = 10 },
  { at = "5ms", process = "B", call = "recv", socket = "s", bytes = "all", expect = 10 },
]
"""
    + A_B_PEER
)


def test_Q10_protocol_info_keeps_socket_alive_after_source_closes() -> None:
    res = _run(DUP_EARLY_CLOSE, "observed")
    assert not [r for r in res.trace if r.kind == "free"]


def test_unconsumed_info_of_exited_target_releases_socket() -> None:
    text = DUP_EARLY_CLOSE.replace(
        '{ at = "3ms", process = "peer"',
        '{ at = "0ms", process = "B", call = "exit" },\n  { at = "3ms", process = "peer"',
    ).replace(", expect = 10 }", " }")
    res = _run(text, "observed")
    freed = [r for r in res.trace if r.kind == "free"]
    assert len(freed) == 1 and freed[0].socket == "S2"


BLOCKING = """\
format = "simnotify/1"
name = "blocking"
until = "10ms"
steps = [
  { at = "1ms", process = "P", call = "recv", socket = "s", bytes = 100, expect = 10 },
  { at = "2ms", process = "P", call = "ioctlsocket", socket = "s", FIONREAD = true },
  { at = "5ms", process = "peer", call = "send", socket = "c", bytes = 10 },
]

[processes.P]
[processes.peer]

[[connection]]
client = "peer.c"
server = "P.s"
"""


def test_blocking_recv_suspends_the_process_until_data_arrives() -> None:
    res = _run(BLOCKING, "observed")
    calls = [r for r in res.trace if r.kind == "call" and r.process == "P"]
    assert [(c.call, c.t_us, c.result) for c in calls] == [
        ("recv", 5_100, 10),
        ("ioctlsocket", 5_100, 0),
    ]
    blocks = [r for r in res.trace if r.kind == "block" and r.process == "P"]
    assert blocks[0].t_us == 1_000 and waiting_in(blocks[0]) == "recv(P.s)"


STAYS_BLOCKED = (
    """\
format = "simnotify/1"
name = "stays-blocked"
until = "10ms"
steps = [
  { at = "0ms", process = "A", call = "WSADuplicateSocket", socket = "s", target = "B" },
  { at = "2ms", process = "B", call = "recv", socket = "s", bytes = 10, expect = 4 },
  { at = "3ms", process = "A", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ"] },
  { at = "4ms", process = "B", call = "ioctlsocket", socket = "s", FIONREAD = true },
  { at = "5ms", process = "peer", call = "send", socket = "c", bytes = 4 },
]
"""
    + A_B_PEER
)


def test_blocked_recv_stays_blocked_when_another_process_makes_socket_nonblocking() -> None:
    res = _run(STAYS_BLOCKED, "observed")
    recv = next(r for r in res.trace if r.kind == "call" and r.call == "recv")
    assert (recv.t_us, recv.result, recv.error) == (5_100, 4, None)


NONLAST_CLOSE = (
    """\
format = "simnotify/1"
name = "e12"
until = "10ms"
steps = [
  { at = "0ms", process = "A", call = "WSAAsyncSelect", socket = "s", window = "w", events = ["FD_READ"] },
  { at = "0ms", process = "A", call = "WSADuplicateSocket", socket = "s", target = "B" },
  { at = "3ms", process = "A", call = "closesocket", socket = "s" },
  { at = "4ms", process = "peer", call = "send", socket = "c", bytes = 10 },
  { at = "6ms", process = "A", call = "PeekMessage", window = "w", expect = { observed = ["FD_READ@s"], documented = [] } },
]
"""
    + A_B_PEER
)


def test_E12_nonlast_close_message_with_closed_wparam_is_stale_under_observed() -> None:
    obs = _run(NONLAST_CLOSE, "observed")
    doc = _run(NONLAST_CLOSE, "documented")
    stale = [v for v in obs.verdicts if v.kind == "stale"]
    assert len(stale) == 1 and "wParam A.s was already closed" in stale[0].text()
    assert not [v for v in doc.verdicts if v.kind == "stale"]


TIES = """\
format = "simnotify/1"
name = "ties"
until = "5ms"
steps = [
  { at = "1ms", process = "B", call = "listen", socket = "L", expect = 0 },
  { at = "1ms", process = "A", call = "connect", socket = "c", to = "B.L", expect = 0 },
  { at = "2ms", process = "A", call = "ioctlsocket", socket = "c", FIONREAD = true, id = "a1" },
  { at = "2ms", process = "B", call = "accept", socket = "L", as = "n", id = "b1" },
  { at = "2ms", process = "A", call = "send", socket = "c", bytes = 1, id = "a2" },
]

[processes.A]
[processes.B]
"""


def test_steps_at_the_same_time_run_in_file_order_across_processes() -> None:
    res = _run(TIES, "observed")
    order = [r.data["id"] for r in res.trace if r.kind == "call" and r.data and "id" in r.data]
    assert order == ["a1", "b1", "a2"]
    reversed_text = TIES.replace(
        '{ at = "1ms", process = "B", call = "listen", socket = "L", expect = 0 },\n', ""
    ).replace(
        'to = "B.L", expect = 0 },\n',
        'to = "B.L", expect = "WSAECONNREFUSED" },\n'
        '  { at = "1ms", process = "B", call = "listen", socket = "L", expect = 0 },\n',
    )
    _run(reversed_text.replace('  { at = "2ms", process = "B", call = "accept"', "#"), "observed")


def test_blocked_expectation_holds_only_for_a_waiting_process() -> None:
    text = BLOCKING.replace("[processes.P]", '[[expect]]\nblocked = "peer"\n\n[processes.P]')
    res = sn.run(sn.loads(text), profile="observed")
    assert [c.message() for c in res.failures] == ["peer is still waiting at the end: it is not"]
    waiting = BLOCKING.replace("bytes = 10 },\n]", 'bytes = 10 },\n]\n\n[[expect]]\nblocked = "P"')
    waiting = waiting.replace(
        '{ at = "5ms", process = "peer", call = "send", socket = "c", bytes = 10 },\n', ""
    )
    res = sn.run(sn.loads(waiting.replace(", expect = 10 }", " }")), profile="observed")
    assert res.ok, [c.message() for c in res.failures]


def test_a_plan_built_out_of_time_order_runs_each_step_at_its_time() -> None:
    from simnotify.plan import Call, Plan, ProcessPlan, Step

    steps = tuple(
        Step(at, "P", Call("WSACreateEvent", {"event": f"e{i}"}))
        for i, at in enumerate([300, 100, 200, 100])
    )
    res = sn.run(Plan("unsorted", 1_000, (ProcessPlan("P"),), steps))
    calls = [(r.t_us, r.args["event"]) for r in res.trace if r.kind == "call"]
    assert calls == [(100, "e1"), (100, "e3"), (200, "e2"), (300, "e0")]


def test_every_engine_record_has_every_field_set() -> None:
    # the engine fills records slot by slot; a slot it forgot would fail here
    from simnotify.trace import STORED, TraceRecord

    res = sn.run(
        sn.load(
            Path(__file__).resolve().parent.parent
            / "scenarios"
            / "shared-sockets-split-interest.toml"
        )
    )
    kinds = {r.kind for r in res.trace}
    assert {"call", "register", "occur", "post", "deliver", "suppress"} <= kinds
    for rec in res.trace:
        fields = rec.to_dict()
        assert list(fields) == list(STORED)
        assert TraceRecord(**fields).to_dict() == fields
        assert rec.actor is not None, rec
