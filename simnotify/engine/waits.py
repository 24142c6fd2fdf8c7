"""What one call sees and what it waits for: the names a step or handler run can use, and
a blocking call that cannot complete yet."""

from __future__ import annotations

from typing import Any

from .sockets import Descriptor, ProtocolInfo, UnderlyingSocket


class Blocked:
    """A blocking call that cannot complete yet: what it waits for, and until when."""

    __slots__ = ("call", "deadline", "descriptor", "handles", "oob", "sockets")

    def __init__(
        self,
        call: str,
        descriptor: str | None = None,
        sockets: tuple[UnderlyingSocket, ...] = (),
        deadline: int | None = None,
        handles: tuple[str, ...] = (),
        oob: bool = False,
    ) -> None:
        self.call = call
        self.descriptor = descriptor
        self.sockets = sockets
        self.deadline = deadline
        self.handles = handles
        self.oob = oob

    def key(self) -> tuple[Any, ...]:
        """Equal for two attempts waiting for the same thing (one block record for both)."""
        return (self.call, self.descriptor, self.handles, self.oob)


class Ctx:
    """Names visible to one step or handler run: a default descriptor and bindings."""

    __slots__ = ("bindings", "default", "handler", "info")

    def __init__(
        self,
        default: Descriptor | None = None,
        info: ProtocolInfo | None = None,
        handler: bool = False,
    ) -> None:
        self.default = default
        self.info = info
        self.handler = handler
        self.bindings: dict[str, Descriptor] = {}
