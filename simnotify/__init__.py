"""simnotify: a discrete-event simulator of Winsock event notification on shared sockets.

Public API: ``load``/``loads`` a scenario, ``run`` it under a profile, read the
``Result`` (trace records, inline checks, end states).
"""

from .profiles import DOCUMENTED, OBSERVED, Profile
from .result import Comparison, Result
from .runner import compare, run
from .scenario import Scenario, ScenarioError, load, loads

__all__ = [
    "DOCUMENTED",
    "OBSERVED",
    "Comparison",
    "Profile",
    "Result",
    "Scenario",
    "ScenarioError",
    "compare",
    "load",
    "loads",
    "run",
]
