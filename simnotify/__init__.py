"""simnotify: a discrete-event simulator of Winsock event notification on shared sockets.

Public API: ``load``/``loads`` a scenario, ``run`` it under a profile, read the
``Result`` (trace records, verdicts, checks, end states); ``stream`` a long run's
trace to a file; ``sweep`` many seeded runs for the probability of each finding;
``explore`` every schedule for each distinct outcome, with a witness ``run`` replays.

The names are imported on first use, so ``import simnotify`` (and every command that
needs only part of it, ``simnotify --help`` first) stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import exports, keep_public_names

if TYPE_CHECKING:
    from .explore import ExploreResult, explore
    from .profiles import DOCUMENTED, OBSERVED, Profile
    from .result import Comparison, Result, Streamed
    from .runner import compare, run, stream
    from .scenario import Scenario, ScenarioError, load, loads
    from .sweep import SweepResult, sweep

#: Each public name and the submodule that defines it.
_WHERE = {
    "ExploreResult": "explore",
    "explore": "explore",
    "DOCUMENTED": "profiles",
    "OBSERVED": "profiles",
    "Profile": "profiles",
    "Comparison": "result",
    "Result": "result",
    "Streamed": "result",
    "compare": "runner",
    "run": "runner",
    "stream": "runner",
    "Scenario": "scenario",
    "ScenarioError": "scenario",
    "load": "scenario",
    "loads": "scenario",
    "SweepResult": "sweep",
    "sweep": "sweep",
}
__all__ = [
    "DOCUMENTED",
    "OBSERVED",
    "Comparison",
    "ExploreResult",
    "Profile",
    "Result",
    "Scenario",
    "ScenarioError",
    "Streamed",
    "SweepResult",
    "compare",
    "explore",
    "load",
    "loads",
    "run",
    "stream",
    "sweep",
]
__getattr__, __dir__ = exports(__name__, _WHERE)
keep_public_names(__name__, _WHERE)
