"""What a finished run looks like to the parts that show it: the report, plots and exports
read runs through these protocols, so they need not import the result classes (which
reach them lazily, for ``res.plot()`` and the like)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .plan import Plan
from .trace import TraceRecord
from .verdicts import Verdict


@dataclass(slots=True)
class ProcessEnd:
    """How a process ended: still blocked in something, exited, or idle."""

    name: str
    blocked: str | None
    exited: bool
    received: int


class Check(Protocol):
    """An inline or outcome expectation, evaluated."""

    @property
    def ok(self) -> bool: ...

    @property
    def line(self) -> int: ...

    def message(self) -> str: ...


class Run(Protocol):
    """A finished run: what it concluded, whether or not it kept its trace."""

    @property
    def plan(self) -> Plan: ...

    @property
    def profile(self) -> str: ...

    @property
    def verdicts(self) -> list[Verdict]: ...

    @property
    def ends(self) -> Mapping[str, ProcessEnd]: ...

    @property
    def checks(self) -> Sequence[Any]: ...

    @property
    def outcomes(self) -> Sequence[Any]: ...

    @property
    def ok(self) -> bool: ...

    @property
    def failures(self) -> Sequence[Check]: ...

    def taken_counts(self) -> Counter[tuple[str, str]]:
        """Notifications each process took, per (process, FD_ event)."""
        ...

    def verdict_counts(self) -> Counter[str]:
        """Verdicts per kind."""
        ...


class Traced(Run, Protocol):
    """A finished run that kept its trace."""

    @property
    def trace(self) -> list[TraceRecord]: ...
