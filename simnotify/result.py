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


@dataclass(slots=True, repr=False)
class Result:
    """Everything a run produced, under one profile.

    In a notebook it shows as an HTML summary; ``print(res)`` (or ``res.report()``) gives
    the report ``simnotify run`` prints; ``repr`` is one line.
    """

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
        """The event timeline as a matplotlib Figure (drawn into ``ax`` when given). In a
        notebook a new figure shows below the cell, also when the cell ends with ``;``."""
        from .plot import plot, shown

        return plot(self, ax) if ax is not None else shown(plot(self))

    def report(self) -> str:
        """The run as ``simnotify run`` prints it: timeline, notifications taken, verdicts,
        who waits at the end, expectations."""
        from .report import text

        return text(self)

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        return f"<Result {self.plan.name} under {self.profile}: {_gist(self)}>"

    def _repr_html_(self) -> str:
        from .html import result_html

        return result_html(self)

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


@dataclass(slots=True, repr=False)
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

    def __repr__(self) -> str:
        return f"<Streamed {self.plan.name} under {self.profile}: {_gist(self)}>"


@dataclass(slots=True, repr=False)
class Comparison:
    """One scenario run under both profiles (shown side by side in a notebook)."""

    observed: Result
    documented: Result

    def differences(self) -> list[str]:
        """Verdicts, deliveries and call results that differ, as text lines."""
        from .report import differences, verdict_differences

        pair = (self.observed, self.documented)
        return verdict_differences(*pair) + differences(*pair)

    def plot(self) -> Figure:
        """Both timelines stacked, observed above documented, on one time axis (in a
        notebook shown below the cell, also when it ends with ``;``)."""
        from .plot import figure, shown

        return shown(figure([self.observed, self.documented]))

    def report(self) -> str:
        """Both runs' reports, then what differs between them."""
        name = self.observed.plan.name
        return (
            "\n\n".join(
                [self.observed.report(), self.documented.report(), f"== differences [{name}]"]
            )
            + "\n"
            + "\n".join(self.differences())
        )

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        return (
            f"<Comparison {self.observed.plan.name}: observed {_gist(self.observed)}; "
            f"documented {_gist(self.documented)}>"
        )

    def _repr_html_(self) -> str:
        from .html import comparison_html

        return comparison_html(self.observed, self.documented)


def _gist(run: Result | Streamed) -> str:
    """A run in a few words: its findings and its expectations."""
    from .report import expectation_counts
    from .verdicts import FINDINGS

    counts = run.verdict_counts()
    found = ", ".join(f"{counts[k]} {k}" for k in FINDINGS if counts[k]) or "no findings"
    return f"{found}; expectations {expectation_counts(run)}"
