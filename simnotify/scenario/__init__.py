"""Scenario files: TOML -> validated ``Scenario`` (with located errors) -> ``Plan``."""

from .build import build
from .errors import Problem, ScenarioError
from .load import LoadLimits, load, loads
from .model import Scenario

__all__ = ["LoadLimits", "Problem", "Scenario", "ScenarioError", "build", "load", "loads"]
