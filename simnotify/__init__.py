"""simnotify: a discrete-event simulator of Winsock event notification on shared sockets.

Public API: ``load``/``loads`` a scenario, ``run`` it under a profile, read the
``Result`` (trace records, verdicts, checks, end states); ``stream`` a long run's
trace to a file; ``sweep`` many seeded runs for the probability of each finding;
``explore`` every schedule for each distinct outcome, with a witness ``run`` replays.
"""

from .explore import ExploreResult, explore
from .profiles import DOCUMENTED, OBSERVED, Profile
from .result import Comparison, Result, Streamed
from .runner import compare, run, stream
from .scenario import Scenario, ScenarioError, load, loads
from .sweep import SweepResult, sweep

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
