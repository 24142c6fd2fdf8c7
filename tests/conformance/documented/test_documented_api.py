"""Documented-rules checks that need the Python API rather than inline expectations.

Each test cites its rule (R1-R87 of the documented-rules reference). The scenario files in
this folder are run by ``tests/conformance/test_conformance.py``; the tests here look at
what a file's inline expectations cannot express: trace fields, message ids, and call
arguments the scenario format does not accept.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.scenario import build

HERE = Path(__file__).parent
FILES = sorted(HERE.glob("R*.toml"))

#: R62 (WSAEnumNetworkEvents and WSAAsyncSelect pages): the error codes each event may carry.
NETDOWN_ONLY = {"WSAENETDOWN"}
EVENT_ERRORS = {
    "FD_READ": NETDOWN_ONLY,
    "FD_WRITE": NETDOWN_ONLY,
    "FD_OOB": NETDOWN_ONLY,
    "FD_ACCEPT": NETDOWN_ONLY,
    "FD_QOS": NETDOWN_ONLY,
    "FD_GROUP_QOS": NETDOWN_ONLY,
    "FD_ADDRESS_LIST_CHANGE": NETDOWN_ONLY,
    "FD_ROUTING_INTERFACE_CHANGE": {"WSAENETUNREACH", "WSAENETDOWN"},
    "FD_CLOSE": {"WSAECONNRESET", "WSAECONNABORTED", "WSAENETDOWN"},
}
#: FD_CONNECT errors: the WSAAsyncSelect page's list (messages) ...
CONNECT_ERRORS_MSG = {
    "WSAEAFNOSUPPORT",
    "WSAECONNREFUSED",
    "WSAENETUNREACH",
    "WSAEFAULT",
    "WSAEINVAL",
    "WSAEISCONN",
    "WSAEMFILE",
    "WSAENOBUFS",
    "WSAENOTCONN",
    "WSAETIMEDOUT",
}
#: ... and the WSAEnumNetworkEvents page's list (event select).
CONNECT_ERRORS_EVT = {
    "WSAEAFNOSUPPORT",
    "WSAECONNREFUSED",
    "WSAENETUNREACH",
    "WSAENOBUFS",
    "WSAETIMEDOUT",
}
ENTRY = re.compile(r"^(FD_[A-Z_]+)(?::(WSA[A-Z_]+))?$")


def _run(path: Path, profile: str = "documented") -> sn.Result:
    return sn.run(sn.load(str(path)), profile=profile)


def _calls(res: sn.Result, name: str) -> list:
    return [r for r in res.trace if r.kind == "call" and r.call == name]


def test_R01_duplicated_descriptor_refers_to_the_same_underlying_socket() -> None:
    """R1: WSADuplicateSocket + WSASocket gives a second descriptor of the same socket."""
    res = _run(HERE / "R01_duplicate_refers_to_same_socket.toml")
    assert not res.failures
    sockets = {
        r.descriptor: r.socket
        for r in res.trace
        if r.kind == "call" and r.descriptor in ("A.s", "B.s") and r.error is None
    }
    assert set(sockets) == {"A.s", "B.s"}
    assert sockets["A.s"] == sockets["B.s"]
    peer = {r.socket for r in res.trace if r.kind == "call" and r.descriptor == "peer.c"}
    assert peer and sockets["A.s"] not in peer


def test_R16_only_the_second_registrations_message_is_used() -> None:
    """R16: AS(s, h, m1, FD_READ) then AS(s, h, m2, FD_WRITE): FD_WRITE only, posted as m2."""
    res = _run(HERE / "R16_registrations_not_merged_msg.toml")
    assert not res.failures
    by_seq = {r.seq: r for r in res.trace}
    second = [
        r
        for r in res.trace
        if r.kind == "register"
        and r.cause is not None
        and (by_seq[r.cause].args or {}).get("message") == "WM_NET2"
    ]
    assert len(second) == 1
    posts = [r for r in res.trace if r.kind == "post"]
    assert [p.event for p in posts] == ["FD_WRITE"]
    assert all(p.gen == second[0].gen for p in posts)
    assert all((p.data or {}).get("message") != "WM_NET1" for p in posts)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_R62_notification_errors_are_the_documented_ones(path: Path) -> None:
    """R62: each event carries only its documented error codes (0 or the page's list)."""
    res = _run(path)
    for rec in _calls(res, "PeekMessage") + _calls(res, "WSAEnumNetworkEvents"):
        if rec.error is not None:
            continue
        for entry in rec.result:
            m = ENTRY.match(entry)
            assert m, f"{path.name}: malformed notification {entry!r}"
            event, err = m.groups()
            if err is None:
                continue
            if event == "FD_CONNECT":
                allowed = CONNECT_ERRORS_MSG if rec.call == "PeekMessage" else CONNECT_ERRORS_EVT
            else:
                allowed = EVENT_ERRORS[event]
            assert err in allowed, f"{path.name}: {rec.call} gave {entry}"


def test_R62_error_carrying_notifications_occur_in_the_suite() -> None:
    """R62: the suite does produce errors for FD_CLOSE (reset) and FD_CONNECT (refused)."""
    seen: set[str] = set()
    for path in FILES:
        res = _run(path)
        for rec in _calls(res, "PeekMessage") + _calls(res, "WSAEnumNetworkEvents"):
            if rec.error is None:
                seen.update(e for e in rec.result if ":" in e)
    assert "FD_CLOSE:WSAECONNRESET" in seen
    assert "FD_CONNECT:WSAECONNREFUSED" in seen


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_R64_every_message_carries_exactly_one_event(path: Path) -> None:
    """R64, R65: one FD_ bit per message, never OR'ed; wParam names a descriptor."""
    res = _run(path)
    names = {f"FD_{n}" for n in sn.winsock.FD.__members__}
    for post in (r for r in res.trace if r.kind == "post"):
        assert post.event in names, f"{path.name}: post of {post.event!r}"
        assert post.descriptor, f"{path.name}: post without a wParam descriptor"
    for rec in _calls(res, "PeekMessage"):
        if rec.error is None:
            for entry in rec.result:
                assert ENTRY.match(entry), f"{path.name}: message {entry!r}"


def test_R66_messages_are_posted_before_and_independently_of_retrieval() -> None:
    """R66: notifications are queued by posting; retrieval happens later, in post order."""
    res = _run(HERE / "R66_messages_are_posted_and_queued_msg.toml")
    assert not res.failures
    posts = [r for r in res.trace if r.kind == "post" and r.process == "A"]
    delivers = [r for r in res.trace if r.kind == "deliver" and r.process == "A"]
    assert len(posts) == 4 and len(delivers) == 4
    peek = _calls(res, "PeekMessage")[0]
    assert all(p.t_us < peek.t_us for p in posts)
    assert all(d.t_us == peek.t_us for d in delivers)
    assert [d.cause for d in delivers] == [p.seq for p in posts]


@pytest.mark.parametrize("count", [0, 65])
def test_R77_wait_with_no_events_or_more_than_64_fails(count: int) -> None:
    """R77: cEvents must be 1..WSA_MAXIMUM_WAIT_EVENTS (64), else WSA_INVALID_PARAMETER.

    The scenario format rejects such lists when loading, so the compiled plan is edited.
    """
    text = """
format = "simnotify/1"
name = "r77-wait-event-count"
profile = "documented"
until = "5ms"
steps = [
  { at = "1ms", process = "A", call = "WSACreateEvent", event = "e", expect = 0 },
  { at = "2ms", process = "A", call = "WSAWaitForMultipleEvents", events = ["e"], timeout = "0ms" },
]
[processes.A]
"""
    plan = build(sn.loads(text))
    wait = plan.steps[1]
    call = dataclasses.replace(wait.call, args={**wait.call.args, "handles": ("e",) * count})
    plan = dataclasses.replace(plan, steps=(plan.steps[0], dataclasses.replace(wait, call=call)))
    res = sn.run(plan, profile="documented")
    waits = _calls(res, "WSAWaitForMultipleEvents")
    assert len(waits) == 1
    assert waits[0].result is None
    assert waits[0].error == "WSA_INVALID_PARAMETER"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_documented_file_names_its_rule_and_page(path: Path) -> None:
    """Every file: documented profile, name = stem, description cites the rule and names the
    Microsoft page it comes from (by its title: the repository links to nothing outside it)."""
    with path.open("rb") as f:
        doc = tomllib.load(f)
    rule = re.match(r"^R(\d\d)_[a-z0-9_]+$", path.stem)
    assert rule, path.name
    assert doc["profile"] == "documented"
    assert doc["name"] == path.stem.lower().replace("_", "-")
    assert f"R{int(rule.group(1))}" in doc["description"]
    assert re.search(r"\b[A-Za-z/ ]+ page\b", doc["description"]), "name the rule's page"
    assert "://" not in doc["description"]
