"""Result of one run: the trace, inline checks, end states and (later) verdicts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .expect import InlineCheck, OutcomeCheck
from .plan import Plan
from .runs import ProcessEnd
from .trace import Kind, TraceRecord, who
from .verdicts import Verdict

__all__ = ["Comparison", "ProcessEnd", "Result", "Streamed"]

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(slots=True)
class Result:
    """Everything a run produced, under one profile."""

    plan: Plan
    profile: str
    trace: list[TraceRecord]
    checks: list[InlineCheck]
    outcomes: list[OutcomeCheck]
    ends: dict[str, ProcessEnd]
    totals: dict[str, int]
    verdicts: list[Verdict]

    @property
    def failures(self) -> list[InlineCheck | OutcomeCheck]:
        """Expectations that did not hold (inline first, then outcome tables)."""
        return [c for c in self.checks if not c.ok] + [c for c in self.outcomes if not c.ok]

    @property
    def ok(self) -> bool:
        """True when every expectation held."""
        return not self.failures

    def taken_counts(self) -> Counter[tuple[str, str]]:
        """Notifications each actor took, per (process or ``A/io``, FD_ event)."""
        deliver = Kind.DELIVER
        return Counter((who(r), r.event or "-") for r in self.trace if r.kind is deliver)

    def verdict_counts(self) -> Counter[str]:
        """Verdicts per kind."""
        return Counter(v.kind for v in self.verdicts)

    def plot(self, ax: Axes | None = None) -> Figure:
        """The event timeline as a matplotlib Figure (drawn into ``ax`` when given)."""
        from .plot import plot

        return plot(self, ax)

    def records(self) -> list[dict[str, Any]]:
        """The trace as plain dicts with every field, ``detail`` included, for scripts."""
        from .jsonl import record_dict

        return [record_dict(r) for r in self.trace]

    def to_records(self) -> list[dict[str, Any]]:
        """The trace as plain dicts with every field (see ``simnotify.export``)."""
        from .export import to_records

        return to_records(self)

    def to_dataframe(self) -> pd.DataFrame:
        """The trace as a pandas DataFrame; pandas is optional, needed only here."""
        from .export import to_dataframe

        return to_dataframe(self)


@dataclass(slots=True)
class Streamed:
    """A run whose trace went to a file as it ran (``simnotify.stream``).

    No trace is kept. The verdicts were judged as the records went by: ``verdicts`` holds
    every one but delivered, which ``delivered`` counts per (process, socket, event).
    ``kinds`` counts the records written per kind, ``taken`` the notifications each
    process consumed.
    """

    plan: Plan
    profile: str
    records: int
    kinds: dict[str, int]
    taken: dict[tuple[str, str], int]
    checks: list[InlineCheck]
    outcomes: list[OutcomeCheck]
    ends: dict[str, ProcessEnd]
    totals: dict[str, int]
    verdicts: list[Verdict]
    delivered: dict[tuple[str, str, str], int]

    @property
    def failures(self) -> list[InlineCheck | OutcomeCheck]:
        """Expectations that did not hold (inline first, then outcome tables)."""
        return [c for c in self.checks if not c.ok] + [c for c in self.outcomes if not c.ok]

    @property
    def ok(self) -> bool:
        """True when every expectation held."""
        return not self.failures

    def taken_counts(self) -> Counter[tuple[str, str]]:
        """Notifications each process took, per (process, FD_ event)."""
        return Counter(self.taken)

    def verdict_counts(self) -> Counter[str]:
        """Verdicts per kind, delivered ones counted rather than kept."""
        counts = Counter(v.kind for v in self.verdicts)
        counts["delivered"] += sum(self.delivered.values())
        return counts


@dataclass(slots=True)
class Comparison:
    """One scenario run under both profiles."""

    observed: Result
    documented: Result

    def differences(self) -> list[str]:
        """Verdicts, deliveries and call results that differ, as text lines."""
        from .report import differences, verdict_differences

        pair = (self.observed, self.documented)
        return verdict_differences(*pair) + differences(*pair)

    def plot(self) -> Figure:
        """Both timelines stacked, observed above documented, on one time axis."""
        from .plot import figure

        return figure([self.observed, self.documented])
