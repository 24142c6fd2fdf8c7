"""Random timing: jitter syntax, per-run seeds, reproducibility."""

from __future__ import annotations

from dataclasses import replace

import pytest

import simnotify as sn
from simnotify.runner import run_plan, to_plan
from simnotify.units import TimeError, parse_jitter

RACE = """\
format = "simnotify/1"
name = "race"
until = "20ms"
steps = [
  { at = "1ms", process = "peer", call = "send", socket = "c", bytes = 10, jitter = "0..4ms" },
  { at = "2ms", process = "A", call = "WSAAsyncSelect", socket = "s", window = "w", events = ["FD_WRITE"] },
]

[network]
jitter = "exp(100us)"

[processes.A]
loop = "messages"
on.FD_READ = [{ call = "recv", bytes = "all" }]

[processes.peer]

[[connection]]
client = "peer.c"
server = "A.s"
"""


def test_parse_jitter_forms() -> None:
    assert parse_jitter("0..2ms") == ("uniform", 0, 2000)
    assert parse_jitter("500us..2ms") == ("uniform", 500, 2000)
    assert parse_jitter("exp(500us)") == ("exp", 0, 500)
    for bad in ("2ms..1ms", "0..2", "fast", "exp(2)"):
        with pytest.raises(TimeError):
            parse_jitter(bad)


def test_bad_jitter_is_a_located_problem() -> None:
    with pytest.raises(sn.ScenarioError) as exc:
        sn.loads(RACE.replace('jitter = "0..4ms"', 'jitter = "4ms..0ms"'), source="r.toml")
    (problem,) = exc.value.problems
    assert str(problem).startswith("r.toml:5: steps[0].jitter: jitter '4ms..0ms' runs backwards")


def outcome(seed: int) -> tuple[list[tuple[int, str | None]], list[str]]:
    plan = replace(to_plan(sn.loads(RACE)), seed=seed)
    res = run_plan(plan, "observed")
    calls = [(r.t_us, r.call) for r in res.trace if r.kind == "call"]
    return calls, sorted(v.kind for v in res.verdicts)


def test_same_seed_same_run_and_seeds_differ() -> None:
    runs = [outcome(seed) for seed in range(12)]
    assert runs[3] == outcome(3)
    assert len({tuple(c) for c, _ in runs}) > 1
