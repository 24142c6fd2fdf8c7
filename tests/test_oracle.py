"""The lost-event oracle on small cases, one per rule of docs/semantics.md section 6."""

from __future__ import annotations

import simnotify as sn
from simnotify.oracle import Verdict
from simnotify.trace import Kind

HEAD = """\
format = "simnotify/1"
name = "oracle"
until = "20ms"
"""
PAIR = """
[processes.P]
[processes.peer]

[[connection]]
client = "peer.c"
server = "P.s"
"""


def verdicts(text: str, profile: str) -> list[Verdict]:
    res = sn.run(sn.loads(HEAD + text), profile=profile)
    assert res.ok, [c.message() for c in res.failures]
    return [v for v in res.verdicts if v.kind != "withdrawn"]


def kinds(found: list[Verdict]) -> list[tuple[str, str | None, int]]:
    return [(v.kind, v.event, v.t_us) for v in found]


V2 = """steps = [
  { at = "0ms", process = "P", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ"] },
  { at = "1ms", process = "peer", call = "send", socket = "c", bytes = 5 },
  { at = "2ms", process = "peer", call = "send", socket = "c", bytes = 5 },
  { at = "3ms", process = "P", call = "WSAEnumNetworkEvents", socket = "s", event = "e", expect = ["FD_READ"] },
]
"""


def test_V2_one_delivery_satisfies_every_earlier_occurrence() -> None:
    for profile in ("observed", "documented"):
        found = kinds(verdicts(V2 + PAIR, profile))
        assert found == [("delivered", "FD_READ", 1_100), ("delivered", "FD_READ", 2_100)]


def test_V2_enumerate_without_recv_leaves_the_next_arrival_latched() -> None:
    early = V2.replace('at = "3ms", process = "P"', 'at = "1500us", process = "P"')
    for profile in ("observed", "documented"):
        found = verdicts(early + PAIR, profile)
        assert kinds(found) == [("delivered", "FD_READ", 1_100), ("lost", "FD_READ", 2_100)]
        assert found[1].reason == "latched"
        assert "not re-enabled since FD_READ was recorded at 1.100ms, taken by P" in found[1].text()


E10_SWITCH = """steps = [
  { at = "0ms", process = "S", call = "listen", socket = "L" },
  { at = "0ms", process = "P", call = "socket", as = "c" },
  { at = "0ms", process = "P", call = "WSAEventSelect", socket = "c", event = "e", events = ["FD_CONNECT"] },
  { at = "1ms", process = "P", call = "connect", socket = "c", to = "S.L", expect = "WSAEWOULDBLOCK" },
  { at = "2ms", process = "P", call = "WSAAsyncSelect", socket = "c", window = "w", events = ["FD_CONNECT", "FD_READ"] },
  { at = "3ms", process = "P", call = "PeekMessage", window = "w", expect = { observed = [], documented = ["FD_CONNECT@c"] } },
]

[processes.P]
[processes.S]
"""


def test_record_cleared_by_names_the_call_that_discarded_the_bit() -> None:
    obs = verdicts(E10_SWITCH, "observed")
    lost = [v for v in obs if v.kind == "lost"]
    assert len(lost) == 1 and lost[0].reason == "record-cleared-by" and lost[0].by == "P"
    assert "cleared at 2.000ms by P's WSAAsyncSelect(c, window=w" in lost[0].text()
    doc = verdicts(E10_SWITCH, "documented")
    assert [v.kind for v in doc if v.event == "FD_CONNECT"] == ["delivered"]


E10_MSG = """steps = [
  { at = "0ms", process = "S", call = "listen", socket = "L" },
  { at = "1ms", process = "P", call = "connect", socket = "c", to = "S.L", expect = 0 },
  { at = "2ms", process = "P", call = "WSAAsyncSelect", socket = "c", window = "w", events = ["FD_CONNECT", "FD_WRITE"] },
  { at = "3ms", process = "P", call = "PeekMessage", window = "w", expect = { observed = ["FD_WRITE"], documented = ["FD_CONNECT", "FD_WRITE"] } },
]

[processes.P]
[processes.S]
"""


def test_E10_blocking_connect_discovers_its_outcome_so_no_verdict() -> None:
    # semantics 5, E10: the call itself reported the outcome, so a later registration
    # does not carry the FD_CONNECT occurrence: no verdict under either profile
    for profile in ("observed", "documented"):
        assert not [v for v in verdicts(E10_MSG, profile) if v.event == "FD_CONNECT"]


MASKED = """steps = [
  { at = "0ms", process = "P", call = "WSAAsyncSelect", socket = "s", window = "w", events = ["FD_READ"] },
  { at = "1ms", process = "P", call = "WSAAsyncSelect", socket = "s", window = "w", events = ["FD_WRITE"] },
  { at = "2ms", process = "P", call = "WSAAsyncSelect", socket = "s", window = "w", events = ["FD_READ", "FD_WRITE"] },
  { at = "3ms", process = "peer", call = "send", socket = "c", bytes = 5 },
]
"""


def test_withdrawn_interest_gives_no_verdict() -> None:
    text = MASKED.replace('events = ["FD_READ", "FD_WRITE"] },', 'events = ["FD_WRITE"] },')
    for profile in ("observed", "documented"):
        res = sn.run(sn.loads(HEAD + text + PAIR), profile=profile)
        assert not [v for v in res.verdicts if v.event == "FD_READ" and v.kind != "withdrawn"]


def test_verdicts_stay_out_of_the_trace_and_name_their_causes() -> None:
    res = sn.run(sn.load("scenarios/shared-sockets-split-interest.toml"), profile="observed")
    assert {r.kind for r in res.trace} <= set(Kind)  # what happened, nothing concluded
    found = [v for v in res.verdicts if v.kind in ("lost", "hang")]
    assert [v.kind for v in found] == ["lost", "hang"]
    cause = res.trace[found[0].cause or 0]
    assert (cause.kind, cause.process, cause.call) == ("call", "B", "WSAAsyncSelect")
    assert found[0].reason == "replaced-by" and found[0].by == "B"
    seqs = [r.seq for r in res.trace]
    assert seqs == list(range(len(seqs)))
