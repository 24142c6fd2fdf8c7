"""Scenario files: TOML -> validated ``Scenario`` (with located errors) -> ``Plan``.

``build`` is imported on first use: checking a file needs none of the plan's classes.
"""

from typing import TYPE_CHECKING

from ..lazy import exports, keep_public_names
from .errors import Problem, ScenarioError
from .load import LoadLimits, load, loads
from .model import Scenario

if TYPE_CHECKING:
    from .build import build

__all__ = ["LoadLimits", "Problem", "Scenario", "ScenarioError", "build", "load", "loads"]
__getattr__, __dir__ = exports(__name__, {"build": "build"})
keep_public_names(__name__, {"build"})
