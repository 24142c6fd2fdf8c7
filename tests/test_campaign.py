"""The hostile-input campaign (scripts/campaign.py) in its short form: a few hundred
mutated scenario files loaded and run under both profiles, with nothing found. The full
campaign (20,000 cases and the faults around the command line) is described in README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_short_campaign_finds_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "campaign.py"), "--short"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mutations: 400 cases" in done.stdout
    assert "findings: none" in done.stdout


def test_the_campaign_fails_when_it_finds_something(tmp_path: Path) -> None:
    """A check that cannot fail proves nothing: a deliberately broken loader is caught."""
    broken = tmp_path / "sitecustomize.py"
    broken.write_text(
        "import simnotify.scenario as sc, simnotify.scenario.load as ld\n"
        "def loads(text, source='<string>', limits=None):\n"
        "    raise KeyError('planted')\n"
        "sc.loads = ld.loads = loads\n"
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "campaign.py"), "--short", "--cases", "20"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 1
    assert "findings: traceback 20" in done.stdout
    assert "KeyError('planted')" in done.stdout
