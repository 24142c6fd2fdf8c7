"""What every bundled scenario, conformance file and the stress plan does, pinned: the
notifications each process took, every call's result and every verdict (kind, process,
socket, event, occurrence, reason, by whom, cause), under both profiles.

A change to the trace's shape, the engine's structure or the oracle must leave all of it as
it was; a change of behaviour must update ``tests/data/behaviour.json`` on purpose:
``python tests/test_behaviour.py --write``, and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

import simnotify as sn
from simnotify.plan import Plan
from simnotify.runner import run_plan
from simnotify.scenario import build

ROOT = Path(__file__).resolve().parent.parent
DIGESTS = ROOT / "tests" / "data" / "behaviour.json"
FILES = sorted([*ROOT.glob("scenarios/*.toml"), *ROOT.glob("tests/conformance/*/*.toml")])
PROFILES = ("observed", "documented")


def stress() -> Plan:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import stress_plan

    return stress_plan(servers=10, per_server=4, arrivals=3_000)


def summary(plan: Plan, profile: str) -> dict[str, object]:
    """The behaviour of one run, as plain data."""
    res = run_plan(plan, profile)
    taken = [
        [r.process, r.descriptor, r.socket, r.event, r.gen]
        for r in res.trace
        if r.kind == "deliver"
    ]
    calls = [
        [r.process, r.call, r.descriptor, r.result, r.error] for r in res.trace if r.kind == "call"
    ]
    verdicts = [
        [str(v.kind), v.process, v.socket, v.event, v.occurrence, v.reason, v.by, v.cause]
        for v in res.verdicts
    ]
    return {"taken": taken, "calls": calls, "verdicts": verdicts}


def digest(plan: Plan, profile: str) -> str:
    text = json.dumps(summary(plan, profile), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def plans() -> dict[str, Plan]:
    found = {str(p.relative_to(ROOT)): build(sn.load(p)) for p in FILES}
    found["benchmarks/bench.py:stress_plan"] = stress()
    return found


def current() -> dict[str, str]:
    return {
        f"{name} {profile}": digest(plan, profile)
        for name, plan in plans().items()
        for profile in PROFILES
    }


@pytest.fixture(scope="module")
def pinned() -> dict[str, str]:
    return dict(json.loads(DIGESTS.read_text(encoding="utf-8")))


def test_every_file_and_profile_is_pinned(pinned: dict[str, str]) -> None:
    names = {f"{name} {profile}" for name in plans() for profile in PROFILES}
    assert names == set(pinned), "new or removed files: python tests/test_behaviour.py --write"


@pytest.mark.parametrize("name", [*map(str, (p.relative_to(ROOT) for p in FILES)), "stress"])
def test_behaviour_is_unchanged(name: str, pinned: dict[str, str]) -> None:
    plan = stress() if name == "stress" else build(sn.load(ROOT / name))
    key = "benchmarks/bench.py:stress_plan" if name == "stress" else name
    for profile in PROFILES:
        assert digest(plan, profile) == pinned[f"{key} {profile}"], f"{name} under {profile}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DIGESTS.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {DIGESTS}")
