"""Every bundled scenario runs under both profiles and meets its expectations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import simnotify as sn

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.toml"))
TIME = re.compile(r"\d+\.\d{3}ms")


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
@pytest.mark.parametrize("profile", ["observed", "documented"])
def test_bundled_scenario_meets_its_expectations(path: Path, profile: str) -> None:
    sc = sn.load(path)
    assert sc.title and sc.title != sc.name, "a gallery scenario needs a title"
    assert len(sc.description) > 100, "a gallery scenario needs a description"
    res = sn.run(sc, profile=profile)
    assert res.ok, "\n".join(c.message() for c in res.failures)
    assert res.plan.expects, "a gallery scenario pins its outcome with [[expect]] tables"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_lost_verdict_names_its_cause(path: Path) -> None:
    for profile in ("observed", "documented"):
        for v in sn.run(sn.load(path), profile=profile).verdicts:
            if v.kind != "lost":
                continue
            assert v.reason is not None and v.cause is not None
            assert TIME.match(v.text()), v.text()
            if v.reason in ("replaced-by", "record-cleared-by", "delivered-to-other-process"):
                assert v.by is not None and v.by in v.text(), v.text()
                assert len(TIME.findall(v.text())) >= 2, v.text()
