"""Verdicts: what the oracle concludes about a run, and the one registry of their kinds.

Every part that shows or counts verdicts (the oracle, the report, plots, sweeps, outcome
expectations, the file schema) reads :data:`KINDS`, so a new kind is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .units import format_time


@dataclass(frozen=True, slots=True)
class VerdictKind:
    """One kind of verdict and how it is shown."""

    name: str
    #: what the verdict says, in a sentence
    text: str
    #: a finding is something wrong a user looks for; sweeps count them
    finding: bool
    #: matplotlib colour and marker of its mark on a timeline
    colour: str
    marker: str
    #: per occurrence (delivered, lost, withdrawn), per consumption or per process
    per: str
    #: an outcome of the run: compared between profiles and tallied by sweeps
    outcome: bool = True


KINDS: dict[str, VerdictKind] = {
    k.name: k
    for k in (
        VerdictKind(
            "lost",
            "an occurrence an actor was interested in never reached it, while the interest "
            "lasted to the end",
            True,
            "#d62728",
            "X",
            "occurrence",
        ),
        VerdictKind(
            "hang",
            "an actor still waiting at the end with at least one lost occurrence",
            True,
            "#d62728",
            "s",
            "process",
        ),
        VerdictKind(
            "stall",
            "an actor still waiting at the end for a notification while a condition it "
            "registered for already holds, untold since it registered",
            True,
            "#e377c2",
            "P",
            "process",
        ),
        VerdictKind(
            "stale",
            "a notification taken while the registration was not the taker's, or naming a "
            "descriptor it had closed",
            True,
            "#ff7f0e",
            "^",
            "consumption",
        ),
        VerdictKind(
            "spurious",
            "a notification whose re-check failed (WSAEWOULDBLOCK), or a wake that enumerated "
            "nothing",
            True,
            "#9467bd",
            "D",
            "consumption",
        ),
        VerdictKind(
            "undefined",
            "a call whose outcome Windows leaves undefined: closing an event object another "
            "thread of the process waits on (R78)",
            True,
            "#e377c2",
            "P",
            "call",
        ),
        VerdictKind(
            "delivered",
            "an occurrence an actor was interested in reached it (a notification, or its own "
            "I/O found it)",
            False,
            "#2ca02c",
            "v",
            "occurrence",
        ),
        VerdictKind(
            "withdrawn",
            "the actor stopped being interested before the occurrence reached it",
            False,
            "#8c8c8c",
            ".",
            "occurrence",
            outcome=False,
        ),
    )
}
#: Kinds that are findings, worst first (sweeps list them in this order).
FINDINGS: tuple[str, ...] = tuple(name for name, k in KINDS.items() if k.finding)
#: Kinds that are outcomes of a run (compared, tallied).
OUTCOMES: tuple[str, ...] = tuple(name for name, k in KINDS.items() if k.outcome)
#: Every kind in the order verdict summaries count them.
ORDER: tuple[str, ...] = (
    "delivered",
    "lost",
    "stale",
    "spurious",
    "hang",
    "stall",
    "undefined",
    "withdrawn",
)
assert set(ORDER) == set(KINDS), "ORDER names every verdict kind once"


class Verdict(NamedTuple):
    """One conclusion of the oracle (semantics 6.2). A named tuple: runs make one per
    delivered occurrence, and a tuple is the cheapest object Python builds."""

    kind: str
    process: str
    t_us: int
    socket: str | None = None
    event: str | None = None
    occurrence: int | None = None  # seq of the occur record
    via: str | None = None  # delivered: "notification" | "io"
    reason: str | None = None  # lost: the cause class (semantics 6.2)
    by: str | None = None  # the process whose call or consumption caused it
    cause: int | None = None  # seq of the responsible record
    #: the sentence; for delivered verdicts made when asked, from ``t_cause``
    said: str = ""
    t_cause: int | None = None  # delivered: when it was taken or found

    @property
    def explanation(self) -> str:
        """A line a person understands."""
        if self.said:
            return self.said
        if self.kind == "delivered":
            how = "notification" if self.via == "notification" else "its own I/O"
            return (
                f"{format_time(self.t_us)} {self.event} delivered to {self.process} "
                f"at {format_time(self.t_cause or 0)} via {how}"
            )
        return ""

    def text(self) -> str:
        """A line a person understands."""
        return self.explanation

    def to_dict(self) -> dict[str, Any]:
        """The verdict for scripts (JSON)."""
        return {
            "kind": self.kind,
            "process": self.process,
            "t_us": self.t_us,
            "socket": self.socket,
            "event": self.event,
            "via": self.via,
            "reason": self.reason,
            "by": self.by,
            "occurrence": self.occurrence,
            "cause": self.cause,
            "explanation": self.explanation,
        }
