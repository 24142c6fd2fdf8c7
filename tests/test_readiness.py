"""select, WSAPoll and the stall finding as a user meets them: discovery through a poll, the
stall's cause, its place in JSON and sweeps, and the file-format checks of readiness tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_oracle import HEAD as TEST_ORACLE_HEAD  # the same small scenarios
from test_oracle import PAIR

import simnotify as sn
from simnotify.cli import main
from simnotify.scenario import ScenarioError, build
from simnotify.sweep import sweep
from simnotify.verdicts import KINDS

ROOT = Path(__file__).resolve().parent.parent
WALRECEIVER = ROOT / "scenarios" / "pg-walreceiver-lost-fdclose.toml"
HEAD = TEST_ORACLE_HEAD.replace('name = "oracle"', 'name = "readiness"')


def run(text: str, profile: str = "observed") -> sn.Result:
    res = sn.run(sn.loads(HEAD + text), profile=profile)
    assert res.ok, [c.message() for c in res.failures]
    return res


@pytest.mark.parametrize(
    "poll", ['select", read = ["s"', 'WSAPoll", fds = [{ socket = "s", events = ["POLLIN"] }']
)
def test_a_poll_that_shows_data_counts_as_learning_it(poll: str) -> None:
    """P never enumerates: without the poll its FD_READ is lost (unconsumed); the poll that
    shows the data is a discovery, so the occurrence is delivered via io."""
    steps = """steps = [
  { at = "0ms", process = "P", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ"] },
  { at = "1ms", process = "peer", call = "send", socket = "c", bytes = 5 },
"""
    lost = run(steps + "]\n" + PAIR)
    assert [(v.kind, v.reason) for v in lost.verdicts] == [("lost", "unconsumed")]
    polled = run(
        steps
        + f'  {{ at = "2ms", process = "P", call = "{poll}], timeout = "0ms", expect = 1 }},\n]\n'
        + PAIR
    )
    assert [(v.kind, v.event, v.via) for v in polled.verdicts] == [("delivered", "FD_READ", "io")]


def test_stall_names_the_rule_and_whom_it_was_reported_to() -> None:
    res = sn.run(sn.load(WALRECEIVER), profile="observed")
    (stall,) = [v for v in res.verdicts if v.kind == "stall"]
    assert (stall.process, stall.event, stall.reason, stall.by) == (
        "walreceiver",
        "FD_CLOSE",
        "report-once",
        "walreceiver",
    )
    taker = next(r for r in res.trace if r.seq == stall.cause)
    assert (str(taker.kind), taker.call or taker.event) == ("deliver", "FD_CLOSE")
    assert "FD_CLOSE is reported once per connection" in stall.text()
    assert not [
        v for v in sn.run(sn.load(WALRECEIVER), profile="documented").verdicts if v.kind == "stall"
    ]


def test_told_after_registering_is_no_stall() -> None:
    """Waiting with data unread is P's own doing once it was told: no stall, no hang."""
    res = run(
        """steps = [
  { at = "0ms", process = "P", call = "WSAEventSelect", socket = "s", event = "e", events = ["FD_READ"] },
  { at = "1ms", process = "peer", call = "send", socket = "c", bytes = 5 },
  { at = "2ms", process = "P", call = "WSAEnumNetworkEvents", socket = "s", event = "e", expect = ["FD_READ"] },
  { at = "3ms", process = "P", call = "WSAWaitForMultipleEvents", events = ["e"] },
]
"""
        + PAIR
    )
    assert res.ends["P"].blocked is not None
    assert {v.kind for v in res.verdicts} == {"delivered"}


def test_stall_is_a_finding_in_the_registry_json_and_sweeps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kind = KINDS["stall"]
    assert kind.finding and kind.per == "process" and kind.colour and kind.marker
    code = main(["run", str(WALRECEIVER), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)
    found = [v for run_ in (doc if isinstance(doc, list) else [doc]) for v in run_["verdicts"]]
    assert any(v["kind"] == "stall" and v["reason"] == "report-once" for v in found), out
    result = sweep(sn.load(WALRECEIVER), runs=3)
    assert result.rows[0].probability(("stall", "walreceiver", "FD_CLOSE"))[0] == 1.0


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            '{ at = "0ms", process = "P", call = "recv", socket = "s", bytes = 1, expect = { read = ["s"] } }',
            "only select and WSAPoll results are tables",
        ),
        (
            '{ at = "0ms", process = "P", call = "select", read = ["s"], expect = { readable = ["s"] } }',
            "a select result table has read, write, except: not 'readable'",
        ),
        (
            '{ at = "0ms", process = "P", call = "WSAPoll", fds = [{ socket = "s", events = ["POLLIN"] }], expect = { s = ["POLLIN"] } }',
            "revents of 's': 'POLLIN' is not one of",
        ),
        (
            '{ at = "0ms", process = "P", call = "WSAPoll", fds = [{ socket = "s", events = ["POLLHUP"] }] }',
            "unknown poll event 'POLLHUP'",
        ),
    ],
)
def test_readiness_mistakes_are_reported_with_their_line(step: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        build(sn.loads(HEAD + f"steps = [\n  {step},\n]\n" + PAIR))
    assert message in str(err.value)
    assert ":5:" in str(err.value)


def test_select_handlers_are_only_for_the_readiness_keys() -> None:
    text = (
        HEAD + '[processes.P]\nloop = "select"\non."FD_READ@s" = [{ call = "recv", bytes = 1 }]\n'
    )
    with pytest.raises(ScenarioError) as err:
        build(sn.loads(text))
    assert "only READABLE, WRITABLE and EXCEPT take '@DESC'" in str(err.value)
