"""Start-up: each command imports only what it uses, so ``--help``, ``list`` and ``check``
start quickly (benchmarks/bench.py --startup measures the times; README, "Performance")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL = str(ROOT / "benchmarks" / "ping-pong.toml")

#: Never imported to start: plotting, numerics, executors, exports, sweeps, Wine.
HEAVY = (
    "matplotlib",
    "numpy",
    "concurrent.futures.process",
    "simnotify.plot",
    "simnotify.sweep",
    "simnotify.export",
    "simnotify.crosscheck.check",
    "simnotify.crosscheck.wine",
)


def imported_by(*argv: str) -> set[str]:
    """The modules loaded by ``simnotify ARGV`` in a fresh interpreter."""
    code = (
        "import contextlib, io, json, sys\n"
        "from simnotify.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({list(argv)!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["run", "--help"]])
def test_help_and_list_import_neither_pydantic_nor_simpy(argv: list[str]) -> None:
    loaded = imported_by(*argv)
    assert "simnotify.cli" in loaded
    unwanted = {"pydantic", "simpy", "simnotify.scenario.model", "simnotify.engine.world"}
    assert not unwanted & loaded
    assert not set(HEAVY) & loaded


def test_check_imports_the_scenario_model_and_nothing_to_run_it() -> None:
    loaded = imported_by("check", SMALL)
    assert "simnotify.scenario.model" in loaded
    assert not set(HEAVY) & loaded
    assert not {"simpy", "simnotify.engine.world", "simnotify.oracle"} & loaded
    assert not {"simnotify.plan", "simnotify.scenario.build"} & loaded  # no plan is built


def test_a_quiet_run_imports_no_plotting_exports_or_sweeps() -> None:
    loaded = imported_by("run", SMALL, "--quiet")
    assert "simnotify.engine.world" in loaded and "simnotify.oracle" in loaded
    assert not set(HEAVY) & loaded


def test_import_simnotify_is_lazy_and_its_names_still_resolve() -> None:
    code = (
        "import sys, simnotify as sn\n"
        "assert 'simnotify.runner' not in sys.modules and 'pydantic' not in sys.modules\n"
        "import simnotify.sweep\n"  # the submodule must not shadow the function
        "assert callable(sn.sweep) and sn.sweep.__module__ == 'simnotify.sweep'\n"
        "assert sn.run.__module__ == 'simnotify.runner' and 'run' in dir(sn)\n"
        "assert sorted(sn.__all__) == sorted(n for n in sn.__all__ if getattr(sn, n, None))\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr
