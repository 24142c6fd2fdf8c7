"""Scenario loading: TOML -> Scenario -> Plan, located error messages, hostile input."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simnotify.plan import ANY_PROFILE, ConnectionPlan, NetworkPlan, OutcomeExpect
from simnotify.scenario import LoadLimits, Scenario, ScenarioError, build, load, loads
from simnotify.scenario.locate import LineMap

VALID = """\
# A scenario touching most calls.
format = "simnotify/1"
name = "round-trip"
until = "50ms"
seed = 7
steps = [
  { at = "2ms", process = "A", call = "WSAAsyncSelect", socket = "s", events = ["FD_READ", "FD_CLOSE"] },
  { at = "+1ms", process = "A", call = "PeekMessage", expect = { observed = [], documented = ["FD_WRITE@s"] } },
  { at = "1ms", process = "peer", call = "send", socket = "c", bytes = 10, expect = 10, id = "first send" },
  { at = "+0ms", process = "B", call = "WSAWaitForMultipleEvents", events = ["e1", "e2"], timeout = "5ms" },
  { at = "1ms", process = "A", call = "recv", socket = "s", bytes = "all", expect = "WSAEWOULDBLOCK" },
  { at = "4ms", process = "A", call = "ioctlsocket", socket = "s", FIONBIO = 1 },
  { at = "+0us", process = "A", call = "ioctlsocket", socket = "s", FIONREAD = true, expect = 0 },
  { at = "5ms", process = "A", call = "setsockopt", socket = "s", option = "SO_LINGER", value = [1, 0] },
  { at = "6ms", process = "A", call = "WSADuplicateSocket", socket = "s", target = "B", as = "dup" },
  { at = "7ms", process = "B", call = "WSASocket", protocol_info = "dup", as = "d" },
  { at = "8ms", process = "peer", call = "connect", socket = "k", to = "A.l" },
  { at = "9ms", process = "B", call = "WSAEnumNetworkEvents", socket = "d", expect = ["FD_CLOSE:WSAECONNABORTED"] },
  { at = "9ms", process = "B", call = "WSAWaitForMultipleEvents", events = ["e1"] },
]

[network]
latency = "250us"
recv_buffer = 1024

[processes.A]
loop = "messages"
on.FD_READ = [{ call = "recv", bytes = "all" }, { call = "sleep", for = "1ms" }]
on.FD_ACCEPT = [{ call = "accept" }]
on.FD_CLOSE = [{ call = "listen", socket = "l" }]

[processes.B]
loop = "events"
handle_time = "10us"
on.FD_READ = [{ call = "WSACreateEvent", event = "e1" }, { call = "WSACreateEvent", event = "e2" }]
on.PROTOCOL_INFO = [
  { call = "WSASocket", as = "c" },
  { call = "WSAEventSelect", socket = "c", event = "ev", events = ["FD_READ", "FD_CLOSE"] },
]

[processes.peer]

[[connection]]
client = "peer.c"
server = "A.s"

[[expect]]
lost = "FD_READ"
process = "A"

[[expect]]
delivered = "FD_WRITE"
process = "B"
socket = "B.d"
profile = "documented"
count = 1
"""

#: Minimal valid head; tests append the part they are about.
HEAD = 'format = "simnotify/1"\nname = "t"\nuntil = "10ms"\n'
PROCS = "[processes.A]\n[processes.B]\n"


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def problems(text: str | bytes, limits: LoadLimits | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        loads(text, source="s.toml", limits=limits or LoadLimits())
    return [str(p) for p in info.value.problems]


# --- a valid scenario ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan_and_text(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str, str]:
    path = tmp_path_factory.mktemp("sc") / "round-trip.toml"
    path.write_text(VALID, encoding="utf-8")
    return build(load(path)), VALID, str(path)


def test_steps_are_sorted_by_time_with_ties_in_file_order(plan_and_text) -> None:
    plan, text, _ = plan_and_text
    got = [(s.at_us, s.call.line) for s in plan.steps]
    lines = [line_of(text, needle) for needle in ('"send"', '"e1", "e2"', '"recv"')]
    assert got[:3] == [(1000, lines[0]), (1000, lines[1]), (1000, lines[2])]
    assert got[3:5] == [(2000, line_of(text, "WSAAsyncSelect")), (3000, line_of(text, "Peek"))]
    assert [t for t, _ in got] == sorted(t for t, _ in got)
    assert [t for t, _ in got][5:7] == [4000, 4000]  # "+0us" after the 4ms step


def test_calls_get_canonical_arguments(plan_and_text) -> None:
    plan, _, _ = plan_and_text
    by_name: dict[str, list[dict[str, object]]] = {}
    for step in plan.steps:
        by_name.setdefault(step.call.name, []).append(step.call.args)
    assert by_name["WSAAsyncSelect"] == [
        {"socket": "s", "window": "main", "message": "WM_SOCKET", "mask": 0x21}
    ]
    assert by_name["recv"] == [
        {"socket": "s", "bytes": -1, "peek": False, "oob": False, "bad_buffer": False}
    ]
    assert by_name["WSAWaitForMultipleEvents"] == [
        {"handles": ("e1", "e2"), "wait_all": False, "timeout_us": 5000},
        {"handles": ("e1",), "wait_all": False, "timeout_us": None},
    ]
    assert by_name["ioctlsocket"] == [
        {"socket": "s", "fionbio": 1, "fionread": False},
        {"socket": "s", "fionbio": None, "fionread": True},
    ]
    assert by_name["setsockopt"] == [{"socket": "s", "option": "SO_LINGER", "value": (1, 0)}]
    assert by_name["connect"] == [{"socket": "k", "to": ("A", "l"), "refused": False}]
    assert by_name["WSASocket"] == [{"info": "dup", "as": "d"}]
    assert by_name["WSADuplicateSocket"] == [
        {"socket": "s", "target": "B", "as": "dup", "info": None}
    ]
    assert by_name["WSAEnumNetworkEvents"] == [{"socket": "d", "event": None}]


def test_expectations_become_per_profile_tables(plan_and_text) -> None:
    plan, text, _ = plan_and_text
    expects = {s.call.name: s.call.expect for s in plan.steps if s.call.expect is not None}
    assert expects["send"].by_profile == {ANY_PROFILE: 10}
    assert expects["send"].line == line_of(text, '"send"')
    assert expects["PeekMessage"].by_profile == {"observed": [], "documented": ["FD_WRITE@s"]}
    assert expects["PeekMessage"].for_profile("documented") == (True, ["FD_WRITE@s"])
    assert expects["WSAEnumNetworkEvents"].by_profile == {ANY_PROFILE: ["FD_CLOSE:WSAECONNABORTED"]}
    assert expects["recv"].by_profile == {ANY_PROFILE: "WSAEWOULDBLOCK"}
    send = next(s.call for s in plan.steps if s.call.name == "send")
    assert send.id == "first send"


def test_processes_handlers_network_and_defaults(plan_and_text) -> None:
    plan, text, source = plan_and_text
    assert plan.source == source
    assert (plan.name, plan.title, plan.profile, plan.seed, plan.until_us) == (
        "round-trip",
        "round-trip",
        "observed",
        7,
        50_000,
    )
    assert plan.network == NetworkPlan(
        latency_us=250, ipc_delay_us=1000, recv_buffer=1024, send_buffer=65536, handle_time_us=50
    )
    a, b, peer = plan.processes
    assert [p.name for p in plan.processes] == ["A", "B", "peer"]
    # A takes the network's handle_time (None: whatever the network's is when it runs)
    assert (a.loop, a.handle_time_us, a.line) == ("messages", None, line_of(text, "[processes.A]"))
    assert (b.loop, b.handle_time_us) == ("events", 10)
    assert (peer.loop, peer.handlers) == ("none", {})
    recv, sleep = a.handlers["FD_READ"]
    assert recv.args["socket"] is None and recv.args["bytes"] == -1
    assert (sleep.name, sleep.args, sleep.line) == ("sleep", {"for_us": 1000}, recv.line)
    assert a.handlers["FD_ACCEPT"][0].args == {"socket": None, "as": "conn", "defer": False}
    wsasocket, select = b.handlers["PROTOCOL_INFO"]
    assert wsasocket.args == {"info": None, "as": "c"}
    assert (select.args["mask"], select.args["event"]) == (0x21, "ev")
    assert select.line == line_of(text, 'event = "ev"')


def test_connections_and_outcome_expectations(plan_and_text) -> None:
    plan, text, _ = plan_and_text
    assert plan.connections == (
        ConnectionPlan(("peer", "c"), ("A", "s"), line_of(text, "[[connection]]")),
    )
    expect_line = line_of(text, "[[expect]]")
    lost, delivered = plan.expects
    assert lost == OutcomeExpect("lost", "FD_READ", "A", line=expect_line)
    assert delivered == OutcomeExpect(
        "delivered", "FD_WRITE", "B", ("B", "d"), "documented", 1, line=expect_line + 4
    )


def test_scenario_built_in_python_has_no_lines() -> None:
    sc = Scenario.model_validate(
        {
            "format": "simnotify/1",
            "name": "py",
            "title": "From Python",
            "until": "1ms",
            "processes": {"A": {"on": {"FD_READ": [{"call": "recv", "bytes": 5}]}}},
            "steps": [{"at": "0ms", "process": "A", "call": "socket", "as": "s", "expect": "s"}],
        }
    )
    plan = build(sc)
    assert (plan.title, plan.source) == ("From Python", "<scenario>")
    assert plan.steps[0].call.line == 0 and plan.steps[0].call.expect.line == 0
    assert plan.processes[0].line == 0 and plan.processes[0].handlers["FD_READ"][0].line == 0


def test_build_checks_cross_references_of_python_scenarios() -> None:
    sc = Scenario.model_validate(
        {
            "format": "simnotify/1",
            "name": "py",
            "until": "1ms",
            "processes": {"A": {}},
            "steps": [{"at": "0ms", "process": "X", "call": "exit"}],
        }
    )
    with pytest.raises(ScenarioError) as info:
        build(sc)
    assert [str(p) for p in info.value.problems] == [
        "<scenario>: steps[0].process: unknown process 'X'"
    ]


def test_every_bundled_example_in_the_spec_style_loads() -> None:
    text = HEAD + PROCS + '[processes.C]\non.FD_READ = [{ call = "recv", bytes = "all" }]\n'
    assert [p.name for p in build(loads(text)).processes] == ["A", "B", "C"]


# --- problems, each in its exact wording ---------------------------------------------------


def test_three_mistakes_are_all_reported_at_their_lines() -> None:
    text = (
        HEAD
        + "steps = [\n"
        + '  { at = "0ms", process = "A", call = "recvv", socket = "s" },\n'
        + '  { at = "1ms", process = "A", call = "WSAEventSelect", socket = "s", events = [\n'
        + '    "FD_READ", "FD_RAED"], event = "e" },\n'
        + "]\n"
        + "[processes.A]\n"
        + 'loop = "messages"\n'
        + "handle_tme = 5\n"
    )
    assert problems(text) == [
        "s.toml:5: steps[0].call: unknown call 'recvv' (did you mean 'recv'?)",
        "s.toml:6: steps[1].socket: 's' is never created in process A",
        "s.toml:7: steps[1].events[1]: unknown event 'FD_RAED' (did you mean 'FD_READ'?)",
        "s.toml:11: processes.A.handle_tme: unknown key 'handle_tme' (did you mean 'handle_time'?)",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            PROCS + '[network]\nlatency = "1ms"\nipc_dely = "2ms"\n',
            "s.toml:8: network.ipc_dely: unknown key 'ipc_dely' (did you mean 'ipc_delay'?)",
            id="unknown-key",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "sned", bytes = 1 }]\n',
            "s.toml:5: processes.A.on.FD_READ[0].call: unknown call 'sned' (did you mean 'send'?)",
            id="unknown-call",
        ),
        pytest.param(
            '[processes.A]\non.FD_RAED = [{ call = "recv", bytes = 1 }]\n',
            "s.toml:5: processes.A.on.FD_RAED: unknown event 'FD_RAED' (did you mean 'FD_READ'?)",
            id="unknown-handler-event",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "sleep", for = "5" }]\n',
            's.toml:5: processes.A.on.FD_READ[0].for: time "5" has no unit: write "5ms" or "5us"',
            id="time-without-unit",
        ),
        pytest.param(
            'steps = [{ at = "0ms", process = "A", call = "recv", bytes = 1 }]\n' + PROCS,
            "s.toml:4: steps[0].socket: missing required key",
            id="step-needs-socket",
        ),
        pytest.param(
            'steps = [{ at = "0ms", process = "A", call = "WSASocket" }]\n' + PROCS,
            "s.toml:4: steps[0].protocol_info: missing required key",
            id="step-wsasocket-needs-info",
        ),
        pytest.param(
            'steps = [{ at = "0ms", process = "A", call = "sleep", for = "1ms" }]\n' + PROCS,
            "s.toml:4: steps[0].call: 'sleep' is only allowed in handlers (processes.NAME.on)",
            id="sleep-in-steps",
        ),
        pytest.param(
            'steps = [{ at = "0ms", process = "A" }]\n' + PROCS,
            "s.toml:4: steps[0].call: missing required key",
            id="step-without-call",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "connect", socket = "l", to = "A.l", refused = true }]\n',
            "s.toml:5: processes.A.on.FD_READ[0]: connect needs exactly one of "
            "'to = \"PROC.DESC\"' or 'refused = true'",
            id="connect-to-or-refused",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "ioctlsocket" }]\n',
            "s.toml:5: processes.A.on.FD_READ[0]: ioctlsocket needs exactly one of "
            "'FIONBIO = 0/1' or 'FIONREAD = true'",
            id="ioctlsocket-one-command",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "WSAEventSelect", events = ["FD_READ"] }]\n',
            "s.toml:5: processes.A.on.FD_READ[0]: WSAEventSelect needs 'event' "
            "unless events = [] (cancel)",
            id="eventselect-needs-event",
        ),
        pytest.param(
            '[processes.A]\nloop = "message"\n',
            "s.toml:5: processes.A.loop: expected 'none', 'messages', 'events' or 'select', "
            "got 'message' (did you mean 'messages'?)",
            id="literal-choice",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "PeekMessage", expect = ["FD_WRIT"] }, '
            '{ call = "WSAAsyncSelect", events = [] }]\n',
            "s.toml:5: processes.A.on.FD_READ[0].expect[0]: unknown event 'FD_WRIT' "
            "(did you mean 'FD_WRITE'?)",
            id="expect-list-event",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "PeekMessage", expect = { observd = [] } }, '
            '{ call = "WSAAsyncSelect", events = [] }]\n',
            "s.toml:5: processes.A.on.FD_READ[0].expect.observd: unknown profile 'observd' "
            "(did you mean 'observed'?)",
            id="expect-profile",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "recv", bytes = 1, expect = "WSAEWOULDBLOK" }]\n',
            "s.toml:5: processes.A.on.FD_READ[0].expect: unknown error 'WSAEWOULDBLOK' "
            "(did you mean 'WSAEWOULDBLOCK'?)",
            id="expect-error-name",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "recv", bytes = 1, expect = true }]\n',
            "s.toml:5: processes.A.on.FD_READ[0].expect: expected a number, a string, a list "
            "or a readiness table, or a table keyed by profile, got true",
            id="expect-type",
        ),
        pytest.param(
            f'[processes.A]\non.FD_READ = [{{ call = "send", bytes = {2**31 + 1} }}]\n',
            "s.toml:5: processes.A.on.FD_READ[0].bytes: must be at most 2147483648, got 2147483649",
            id="bytes-bound",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "WSAWaitForMultipleEvents", events = [] }]\n',
            "s.toml:5: processes.A.on.FD_READ[0].events: needs at least 1 entry",
            id="wait-needs-an-event",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "WSAWaitForMultipleEvents", events = ['
            + ", ".join(f'"e{i}"' for i in range(65))
            + "] }]\n",
            "s.toml:5: processes.A.on.FD_READ[0].events: has 65 entries; at most 64 allowed",
            id="wait-at-most-64",
        ),
        pytest.param(
            f'[processes.A]\non.FD_READ = [{{ call = "socket", as = "{"x" * 201}" }}]\n',
            "s.toml:5: processes.A.on.FD_READ[0].as: is longer than 200 characters",
            id="name-length",
        ),
        pytest.param(
            '[processes."a b"]\n',
            "s.toml:4: processes.\"a b\": 'a b' is not a valid process name: "
            "use letters, digits, '_' and '-'",
            id="process-name",
        ),
        pytest.param(
            "processes = {}\n",
            "s.toml:4: processes: needs at least 1 entry",
            id="no-processes",
        ),
        pytest.param(
            PROCS + '[[expect]]\nlost = "FD_READ"\ndelivered = "FD_READ"\n',
            "s.toml:6: expect[0]: needs exactly one of lost, delivered, none, stale, spurious, "
            "hang, stall, blocked, received, undefined (found lost, delivered)",
            id="outcome-one-claim",
        ),
        pytest.param(
            PROCS + "[[expect]]\nreceived = 10\n",
            "s.toml:6: expect[0]: 'received' needs 'process' (whose recv calls to count)",
            id="outcome-received-needs-process",
        ),
        pytest.param(
            PROCS + '[[expect]]\nnone = "gone"\n',
            "s.toml:7: expect[0].none: expected 'lost', 'hang', 'stall', 'stale', 'spurious' "
            "or 'undefined', got 'gone'",
            id="outcome-none",
        ),
        pytest.param(
            PROCS + '[[expect]]\nstale = "FD_QOS"\n',
            "s.toml:7: expect[0].stale: 'FD_QOS' is never raised in v1: use one of "
            "FD_READ, FD_WRITE, FD_OOB, FD_ACCEPT, FD_CONNECT, FD_CLOSE",
            id="outcome-unraised-event",
        ),
        pytest.param(
            PROCS + '[[expect]]\ndelivered = "FD_READ"\ncount = -1\n',
            "s.toml:8: expect[0].count: must be at least 0, got -1",
            id="outcome-count",
        ),
        pytest.param(
            PROCS + '[[connection]]\nclient = "As"\nserver = "B.s"\n',
            "s.toml:7: connection[0].client: expected PROCESS.DESCRIPTOR such as 'A.s', got 'As'",
            id="endpoint-shape",
        ),
    ],
)
def test_validation_messages(body: str, expected: str) -> None:
    assert problems(HEAD + body) == [expected]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            'steps = [{ at = "0ms", process = "Bb", call = "exit" }]\n' + PROCS,
            ["s.toml:4: steps[0].process: unknown process 'Bb' (did you mean 'B'?)"],
            id="step-process",
        ),
        pytest.param(
            PROCS + '[[connection]]\nclient = "C.c"\nserver = "A.s"\n',
            ["s.toml:7: connection[0].client: unknown process 'C' in 'C.c'"],
            id="connection-process",
        ),
        pytest.param(
            PROCS + '[[connection]]\nclient = "B.c"\nserver = "A.s"\n'
            '[[connection]]\nclient = "B.d"\nserver = "A.s"\n',
            ["s.toml:11: connection[1].server: 'A.s' is already created by connection[0].server"],
            id="duplicate-descriptor",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "connect", to = "Z.l" }]\n',
            ["s.toml:5: processes.A.on.FD_READ[0].to: unknown process 'Z' in 'Z.l'"],
            id="connect-to",
        ),
        pytest.param(
            '[processes.A]\non.FD_READ = [{ call = "WSADuplicateSocket", target = "Q" }]\n',
            ["s.toml:5: processes.A.on.FD_READ[0].target: unknown process 'Q'"],
            id="duplicate-target",
        ),
        pytest.param(
            PROCS + '[[expect]]\ndelivered = "FD_READ"\nsocket = "X.s"\n',
            ["s.toml:8: expect[0].socket: unknown process 'X' in 'X.s'"],
            id="outcome-socket",
        ),
        pytest.param(
            PROCS + '[[expect]]\nhang = "a"\n',
            ["s.toml:7: expect[0].hang: unknown process 'a' (did you mean 'A'?)"],
            id="outcome-hang",
        ),
        pytest.param(
            'steps = [\n  { at = "9ms", process = "A", call = "exit" },\n'
            '  { at = "+2ms", process = "A", call = "exit" },\n]\n' + PROCS,
            ["s.toml:6: steps[1].at: step time 11.000ms is after until (10.000ms)"],
            id="after-until",
        ),
        pytest.param(
            'steps = [\n  { at = "0ms", process = "A", call = "exit", id = "x" },\n]\n'
            '[processes.A]\non.FD_READ = [{ call = "exit", id = "x" }]\n',
            ["s.toml:8: processes.A.on.FD_READ[0].id: id 'x' is already used by steps[0]"],
            id="duplicate-id",
        ),
    ],
)
def test_cross_reference_messages(body: str, expected: list[str]) -> None:
    assert problems(HEAD + body) == expected


def test_toml_syntax_error_is_located() -> None:
    assert problems(HEAD + "[processes.A]\nloop = \n") == [
        "s.toml:5: TOML syntax: invalid value (column 8)"
    ]


def test_empty_file_lists_the_missing_required_keys() -> None:
    assert problems("") == [
        "s.toml:1: format: missing required key",
        "s.toml:1: name: missing required key",
        "s.toml:1: until: missing required key",
        "s.toml:1: processes: missing required key",
    ]


def test_unknown_format_and_bad_name() -> None:
    text = 'format = "simnotify/2"\nname = "Big One"\nuntil = "1ms"\n' + PROCS
    assert problems(text) == [
        "s.toml:1: format: expected 'simnotify/1', got 'simnotify/2'",
        "s.toml:2: name: 'Big One' is not a valid scenario name: use a-z, 0-9 and '-'",
    ]


def test_non_utf8_is_reported_at_its_line() -> None:
    assert problems(HEAD.encode() + b"title = '\xff'\n") == [
        "s.toml:4: not UTF-8 text (cannot read b'\\xff'); save it as UTF-8"
    ]


def test_binary_garbage() -> None:
    assert problems(bytes(range(256)) * 4) == [  # 0x0a ends line 1; 0x80 is on line 2
        "s.toml:2: not UTF-8 text (cannot read b'\\x80'); save it as UTF-8"
    ]
    assert problems(b"\x00\x01\x02") == [
        "s.toml:1: TOML syntax: invalid statement (column 1); "
        "the file holds NUL bytes: is it UTF-16 or binary? Save it as UTF-8 text"
    ]


def test_byte_order_mark_is_accepted() -> None:
    assert loads(b"\xef\xbb\xbf" + (HEAD + PROCS).encode()).name == "t"


def test_limits_are_checked_before_validation() -> None:
    steps = "steps = [" + ", ".join(['{ at = "0ms" }'] * 4) + "]\n"
    procs = "".join(f"[processes.p{i}]\n" for i in range(3))
    handlers = '[processes.A]\non.FD_READ = [{ call = "exit" }, { call = "exit" }]\n'
    limits = LoadLimits(max_steps=3, max_processes=3, max_handlers=1)
    assert problems(HEAD + steps + procs, limits) == [
        "s.toml:4: steps: has 4 steps; at most 3 allowed: "
        "raise the limit with --max-steps (LoadLimits.max_steps)"
    ]
    assert problems(HEAD + procs + "[processes.p3]\n", limits) == [
        "s.toml:4: processes: has 4 processes; at most 3 allowed: "
        "raise the limit with --max-processes (LoadLimits.max_processes)"
    ]
    assert problems(HEAD + handlers, limits) == [
        "s.toml:5: processes.A.on.FD_READ: has 2 calls; at most 1 allowed: "
        "raise the limit with --max-handlers (LoadLimits.max_handlers)"
    ]


def test_too_many_problems_are_cut_off() -> None:
    steps = "steps = [\n" + '  { at = "0ms", process = "A", call = "exit", x = 1 },\n' * 5 + "]\n"
    found = problems(HEAD + steps + PROCS, LoadLimits(max_problems=2))
    assert found == [
        "s.toml:5: steps[0].x: unknown key 'x'",
        "s.toml:6: steps[1].x: unknown key 'x'",
        "s.toml: more problems not shown (stopped after 2; "
        "raise the limit with --max-problems, LoadLimits.max_problems)",
    ]


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    with path.open("wb") as f:
        f.truncate(LoadLimits().max_file_bytes + 1)  # sparse: no time spent writing
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert str(info.value) == (
        f"{path}:1: file is 10485761 bytes; at most 10485760 allowed: "
        "raise the limit with --max-file-bytes (LoadLimits.max_file_bytes)"
    )


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.toml")


def test_deep_nesting_and_huge_numbers_are_scenario_errors() -> None:
    assert problems("a = " + "[" * 50_000 + "]" * 50_000) == [
        "s.toml:1: arrays or tables are nested more than 100 deep here"
    ]
    assert problems(HEAD + "seed = " + "9" * 5000 + "\n") == [
        "s.toml:4: a number has too many digits"
    ]
    nested = "[" * 200 + '"FD_READ"' + "]" * 200
    found = problems(HEAD + f'[processes.A]\non.FD_READ = [{{ call = "exit", expect = {nested} }}]')
    assert found == [
        "s.toml:5: processes.A.on.FD_READ[0].expect[0]: expected an entry such as 'FD_READ' "
        "or 'FD_CLOSE:WSAECONNABORTED', got an array"
    ]


# --- the locator ---------------------------------------------------------------------------

TRICKY = '''\
# comment with [brackets] and "quotes" = 1
description = """
Text with [brackets], { braces }, "quotes", \'\'\' and # hashes
steps = [ "not", "real" ]
"""
other = \'\'\'literal [x] "y" \'\'\'
[[steps]]
at = "0ms"   # trailing comment with ]
events = [
  "FD_READ",   # first
  # a comment between elements
  "FD_CLOSE",
]
[[steps]]
"at" = "1ms"
nested = [[1, 2], [
   3,
   4]]
[processes."my proc".on]
FD_READ = [
  { call = "recv", note = "a ] b" },
  { call = "send", bytes = 1 },
]
[ processes . B ]
on.FD_WRITE = [ { call = "x" },
  { call = "y", s = 'q"' } ]
inline = { a = 1, b = { c = [1,
  2] } }
'''


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("description",), 2),
        (("other",), 6),
        (("steps",), 7),
        (("steps", 0), 7),
        (("steps", 0, "at"), 8),
        (("steps", 0, "events"), 9),
        (("steps", 0, "events", 0), 10),
        (("steps", 0, "events", 1), 12),
        (("steps", 1), 14),
        (("steps", 1, "at"), 15),
        (("steps", 1, "nested", 0, 1), 16),
        (("steps", 1, "nested", 1, 0), 17),
        (("steps", 1, "nested", 1, 1), 18),
        (("processes", "my proc", "on"), 19),
        (("processes", "my proc", "on", "FD_READ", 0), 21),
        (("processes", "my proc", "on", "FD_READ", 1, "bytes"), 22),
        (("processes", "B"), 24),
        (("processes", "B", "on", "FD_WRITE"), 25),
        (("processes", "B", "on", "FD_WRITE", 1, "s"), 26),
        (("processes", "B", "inline", "b", "c", 1), 28),
        (("steps", 1, "missing", 3), 14),  # falls back to the nearest existing prefix
        (("nowhere",), 1),
    ],
)
def test_locator_on_tricky_toml(path: tuple[str | int, ...], line: int) -> None:
    tomllib.loads(TRICKY)  # the sample is valid TOML
    assert LineMap(TRICKY).line(path) == line


def test_locator_is_linear_on_deep_nesting() -> None:
    lines = LineMap("a = " + "[" * 200_000 + "\n" + "]" * 200_000 + "\nb = 1\n")
    assert lines.line(("b",)) == 3
    assert lines.line(("a", 0, 0)) == 1


# --- hostile input never escapes as another exception ----------------------------------------

TOML_ALPHABET = st.sampled_from([*"[]{}=,.\"'#\n \t\\+-_:0123456789abcdefstumFDRE@", "FD_"])
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def loads_or_scenario_error(text: str | bytes) -> None:
    try:
        build(loads(text))
    except ScenarioError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    loads_or_scenario_error(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    loads_or_scenario_error(data)


@FUZZ
@given(st.lists(TOML_ALPHABET, max_size=200).map("".join))
def test_random_toml_like_text(text: str) -> None:
    loads_or_scenario_error(text)
    assert LineMap(text).line(("a", 0, "b")) >= 1


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(VALID)), st.integers(0, 3), TOML_ALPHABET),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_valid_scenario(edits: list[tuple[int, int, str]]) -> None:
    text = VALID
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    loads_or_scenario_error(text)
