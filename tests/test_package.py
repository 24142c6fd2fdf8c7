"""A plain install (a wheel, not an editable checkout) carries the bundled scenarios: a new
user lists and runs them by name from any folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_wheel_in_a_fresh_venv_lists_and_runs_bundled_scenarios(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("simnotify-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cli = str(venv / "bin" / "simnotify")

    listed = subprocess.run([cli, "list"], cwd=elsewhere, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))

    ran = subprocess.run(
        [cli, "run", "prefork-handoff-inherited-read", "--profile", "both", "--quiet"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    assert "expectations (observed): " in ran.stdout and "FAIL" not in ran.stdout
