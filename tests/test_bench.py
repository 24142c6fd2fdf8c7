"""The benchmark script runs end to end: a README number that cannot be reproduced is no
number. A miniature run (1 ms of the stress scenario, one round) must print every table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_script_prints_every_measurement() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--until", "1ms", "--repeat", "1",
         "--occurrences", "2000"],
        check=True, capture_output=True, text=True, timeout=600,
    ).stdout  # fmt: skip
    for row in ("bare simpy", "simnotify run --quiet", "sn.run (verdicts)", "engine alone"):
        line = next(line for line in out.splitlines() if line.startswith(row))
        assert len(line.split()) >= 4, line
    assert "sn.run's result freed afterwards: " in out
    assert "streamed run with verdicts: " in out
    assert "start-up, CPU time" in out
    assert "prefork-handoff-race" in out
