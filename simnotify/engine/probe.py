"""Probes: what an invariant checker is told beyond the records, at the points where the
engine decides. A run without a probe pays one attribute test at each point.

The property tests subclass :class:`Probe`; the engine calls it, so a checked run is the
same engine as any other, observed, not patched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..plan import Call
    from .objects import EventObject
    from .sockets import Descriptor, ProtocolInfo, UnderlyingSocket
    from .waits import Ctx


class Probe:
    """Every hook does nothing here."""

    def raised(self, s: UnderlyingSocket, bit: int, latched: bool, made: int | None) -> None:
        """A raise of ``bit`` on ``s``: was it latched before, and the seq of the
        notification it made (None: it made none)."""

    def enumerated(
        self,
        d: Descriptor,
        ev: EventObject | None,
        record: int,
        mask: int,
        errors: dict[int, int],
        out: list[tuple[int, int]],
    ) -> None:
        """A WSAEnumNetworkEvents: the record, mask and errors before, what it returned."""

    def calling(self, proc: Any, call: Call, ctx: Ctx) -> None:
        """A process is about to make ``call`` (each attempt of a blocking one)."""

    def called(self, proc: Any, call: Call, out: Any) -> None:
        """The attempt returned ``out``: an outcome (result, error) or a ``Blocked``."""

    def duplicated(self, info: ProtocolInfo) -> None:
        """WSADuplicateSocket made a protocol info, now on its way to its target."""
