"""Every green run means what it says: checks that never ran fail, and every mistake in a
file is reported in one pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.cli import main

ENDLESS_WAIT = """\
format = "simnotify/1"
name = "endless"
until = "20ms"
steps = [
  { at = "0ms", process = "A", call = "recv", socket = "s", bytes = 10, expect = 999 },
  { at = "1ms", process = "A", call = "send", socket = "s", bytes = 10, expect = 10 },
  { at = "4ms", process = "other", call = "send", socket = "o", bytes = 1, expect = 1, jitter = "30ms..40ms" },
]

[processes.A]
[processes.peer]
loop = "events"
on.FD_READ = [{ call = "recv", bytes = "all", expect = 5 }]
[processes.other]

[[connection]]
client = "peer.c"
server = "A.s"

[[connection]]
client = "other.o"
server = "A.t"
"""
EXITS = ENDLESS_WAIT.replace(
    "expect = 10 },\n",
    'expect = 10 },\n  { at = "2ms", process = "peer", call = "exit" },\n'
    '  { at = "3ms", process = "peer", call = "send", socket = "c", bytes = 1, expect = 1 },\n',
)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_expectation_behind_an_endless_wait_fails_as_not_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "endless.toml"
    path.write_text(ENDLESS_WAIT)
    code, out, _ = run_cli(capsys, "run", str(path), "--quiet")
    assert code == 1
    assert out.splitlines()[-6:-1] == [
        "expectations (observed): 0 held, 4 not reached",
        f"  FAIL  {path}:5: A: recv not reached: A was still waiting in recv(A.s) at the end "
        "(observed)",
        f"  FAIL  {path}:6: A: send not reached: it never ran: A was still waiting in recv(A.s) "
        "at the end (observed)",
        f"  FAIL  {path}:7: other: send not reached: its time with jitter fell after until "
        "(observed)",
        f"  FAIL  {path}:13: peer: recv not reached: the handler on.FD_READ of peer never ran it "
        "(observed)",
    ]


def test_steps_of_a_process_that_exited_are_not_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exits.toml"
    path.write_text(EXITS)
    code, out, _ = run_cli(capsys, "run", str(path), "--quiet")
    assert code == 1
    lines = out.splitlines()
    # the peer's exit ends A's recv with 0 (end of stream): that check ran, and failed
    assert f"  FAIL  {path}:5: 2.100ms A: recv expected 999, got 0 (observed)" in lines
    assert (
        f"  FAIL  {path}:8: peer: send not reached: peer exited before it ran (observed)" in lines
    )
    assert "expectations (observed): 1 held, 1 failed, 3 not reached" in lines


def test_not_reached_is_in_json_and_counts_only_under_its_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "endless.toml"
    path.write_text(ENDLESS_WAIT.replace("expect = 999", "expect = { documented = 999 }"))
    code, out, _ = run_cli(capsys, "run", str(path), "--json", "--profile", "both")
    assert code == 1
    for doc in json.loads(out):
        at_line_5 = [f for f in doc["failures"] if f["line"] == 5]
        if doc["profile"] == "documented":
            assert at_line_5 == [
                {
                    "line": 5,
                    "reached": False,
                    "message": "A: recv not reached: A was still waiting in recv(A.s) at the end "
                    "(documented)",
                }
            ]
        else:
            assert at_line_5 == []  # the expectation names only documented


def test_not_reached_checks_are_in_res_failures() -> None:
    res = sn.run(sn.loads(ENDLESS_WAIT, source="s.toml"))
    assert not res.ok
    assert sorted(c.line for c in res.failures if not getattr(c, "reached", True)) == [5, 6, 7, 13]


def test_a_streamed_run_reports_unreached_expectations_too(tmp_path: Path) -> None:
    with (tmp_path / "t.jsonl").open("w") as fh:
        done = sn.stream(sn.loads(ENDLESS_WAIT), fh)
    assert not done.ok
    assert sorted(c.line for c in done.checks if not c.reached) == [5, 6, 7, 13]


UNKNOWN_CALL_AND_PROCESS = """\
format = "simnotify/1"
name = "two-kinds"
until = "10ms"
steps = [
  { at = "1ms", process = "nobody", call = "recvv", socket = "s", bytes = 1 },
  { at = "2ms", process = "A", call = "send", socket = "s", bytes = "10" },
  { at = "3ms", process = "A", call = "closesocket", socket = "t" },
]
[processes.A]
[processes.B]
[[connection]]
client = "B.c"
server = "A.s"
[[expect]]
hang = "nobdy"
"""


def test_schema_and_reference_mistakes_are_reported_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "two.toml"
    path.write_text(UNKNOWN_CALL_AND_PROCESS)
    code, out, err = run_cli(capsys, "check", str(path))
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"{path}:5: steps[0].call: unknown call 'recvv' (did you mean 'recv'?)",
        f"{path}:5: steps[0].process: unknown process 'nobody'",
        f"{path}:6: steps[1].bytes: expected an integer, got '10'",
        f"{path}:7: steps[2].socket: 't' is never created in process A (did you mean 's'?)",
        f"{path}:15: expect[0].hang: unknown process 'nobdy'",
    ]


def test_a_value_of_the_wrong_type_is_not_also_a_dangling_name() -> None:
    text = UNKNOWN_CALL_AND_PROCESS.replace('socket = "t"', 'socket = "t t"')
    with pytest.raises(sn.ScenarioError) as err:
        sn.loads(text, source="s.toml")
    at_line_7 = [str(p) for p in err.value.problems if p.line == 7]
    assert at_line_7 == [
        "s.toml:7: steps[2].socket: 't t' is not a valid descriptor name: "
        "use letters, digits, '_' and '-'"
    ]


@pytest.mark.parametrize(
    ("call", "where", "message"),
    [
        pytest.param(
            '{ at = "1ms", process = "A", call = "PeekMessage", window = "ww" }',
            "steps[0].window",
            "'ww' is never created in process A (did you mean 'w'?)",
            id="window",
        ),
        pytest.param(
            '{ at = "1ms", process = "A", call = "WSASetEvent", event = "ev" }',
            "steps[0].event",
            "'ev' is never created in process A (did you mean 'e'?)",
            id="event",
        ),
        pytest.param(
            '{ at = "1ms", process = "B", call = "recv", socket = "s", bytes = 1 }',
            "steps[0].socket",
            "'s' is never created in process B (did you mean 'c'?)",
            id="descriptor-of-another-process",
        ),
        pytest.param(
            '{ at = "1ms", process = "B", call = "connect", socket = "k", to = "A.lsnr" }',
            "steps[0].to",
            "'lsnr' is never created in process A (did you mean 'lsn'?)",
            id="connect-target",
        ),
        pytest.param(
            '{ at = "1ms", process = "A", call = "socket", as = "INVALID_SOCKET" }',
            "steps[0].as",
            "'INVALID_SOCKET' is reserved for an invalid handle: name the descriptor something else",
            id="reserved-name",
        ),
    ],
)
def test_names_nothing_creates_are_located_load_errors(call: str, where: str, message: str) -> None:
    text = f"""\
format = "simnotify/1"
name = "names"
until = "10ms"
steps = [
  {call},
]
[processes.A]
on.FD_READ = [
  {{ call = "WSAAsyncSelect", window = "w", events = [] }},
  {{ call = "WSAEventSelect", event = "e", events = [] }},
  {{ call = "listen", socket = "lsn" }},
]
[processes.B]
[[connection]]
client = "B.c"
server = "A.s"
"""
    with pytest.raises(sn.ScenarioError) as err:
        sn.loads(text, source="s.toml")
    assert [str(p) for p in err.value.problems] == [f"s.toml:5: {where}: {message}"]


def test_names_made_at_run_time_are_known_by_their_base_name() -> None:
    """A handler's ``as`` binds a numbered descriptor (conn1, conn2, ...), and a duplicate
    of a handler's descriptor arrives under the source's name: steps may name them."""
    text = """\
format = "simnotify/1"
name = "numbered"
until = "10ms"
steps = [
  { at = "0ms", process = "A", call = "listen", socket = "lsn" },
  { at = "0ms", process = "A", call = "WSAAsyncSelect", socket = "lsn", window = "w", events = ["FD_ACCEPT"] },
  { at = "1ms", process = "C", call = "connect", socket = "c", to = "A.lsn" },
  { at = "5ms", process = "A", call = "recv", socket = "conn1", bytes = 1 },
  { at = "5ms", process = "W", call = "recv", socket = "conn1", bytes = 1 },
]
[processes.A]
loop = "messages"
on.FD_ACCEPT = [{ call = "accept", socket = "lsn" }, { call = "WSADuplicateSocket", target = "W" }]
[processes.W]
[processes.C]
"""
    sn.loads(text)  # no error


def test_a_closed_descriptor_still_fails_in_the_trace() -> None:
    text = """\
format = "simnotify/1"
name = "closed"
until = "10ms"
steps = [
  { at = "1ms", process = "A", call = "closesocket", socket = "s", expect = 0 },
  { at = "2ms", process = "A", call = "recv", socket = "s", bytes = 1, expect = "WSAENOTSOCK" },
  { at = "3ms", process = "A", call = "recv", socket = "INVALID_SOCKET", bytes = 1, expect = "WSAENOTSOCK" },
]
[processes.A]
[processes.B]
[[connection]]
client = "B.c"
server = "A.s"
"""
    res = sn.run(sn.loads(text))
    assert res.ok and len(res.checks) == 3
