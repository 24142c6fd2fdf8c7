"""simnotify: a discrete-event simulator of Winsock event notification on shared sockets.

Public API: ``load``/``loads`` a scenario, ``run`` it under a profile, read the
``Result`` (trace records, inline checks, end states).
"""

from .profiles import DOCUMENTED, OBSERVED, Profile
from .result import Result
from .runner import run
from .scenario import Scenario, ScenarioError, load, loads

__all__ = [
    "DOCUMENTED",
    "OBSERVED",
    "Profile",
    "Result",
    "Scenario",
    "ScenarioError",
    "load",
    "loads",
    "run",
]
