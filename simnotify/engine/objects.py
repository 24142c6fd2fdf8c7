"""What a process owns besides descriptors: windows and event objects, and who waits on
them. Kept apart from the modules that act on them, so sockets, notifications, calls and
processes can all use them without importing each other.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol


class Waker(Protocol):
    """Whoever runs a loop over windows and events: poked when something arrives, and
    holding the queue its windows' messages go to."""

    name: str
    messages: deque[Any]  # sockets.Message
    current: Any  # the call it is blocked in (plan.Call), or None

    def poke(self) -> None: ...

    def wake_event(self) -> None:
        """Wake whoever may wait on its event objects (every thread of the process)."""


class Window:
    """A window: a part of its owner's message queue."""

    __slots__ = ("data", "destroyed", "name", "owner")

    def __init__(self, name: str, owner: Waker) -> None:
        self.name = name
        self.owner = owner
        self.destroyed = False
        self.data: dict[str, Any] = {"window": name}  # a delivery's facts, made once


class EventObject:
    """A manual-reset event, usable only by its creating process (R69, R70)."""

    __slots__ = ("closed", "name", "owner", "signal_data", "signalled")

    def __init__(self, name: str, owner: Waker) -> None:
        self.name = name
        self.owner = owner
        self.signalled = False
        self.closed = False
        self.signal_data: dict[str, Any] = {"event_object": name}
