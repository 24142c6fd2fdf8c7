"""Winsock constants: FD_* event bits and WSAE* error codes, with their names.

Values are Microsoft's (winsock2.h), so traces can be compared with real programs.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag


class FD(IntFlag):
    """Network event bits (lNetworkEvents / LOWORD(lParam))."""

    READ = 0x01
    WRITE = 0x02
    OOB = 0x04
    ACCEPT = 0x08
    CONNECT = 0x10
    CLOSE = 0x20
    QOS = 0x40
    GROUP_QOS = 0x80
    ROUTING_INTERFACE_CHANGE = 0x100
    ADDRESS_LIST_CHANGE = 0x200


READ, WRITE, OOB, ACCEPT, CONNECT, CLOSE = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
#: The six events v1 raises; the four reserved ones are accepted in masks, never raised.
V1_BITS = READ | WRITE | OOB | ACCEPT | CONNECT | CLOSE
ALL_BITS = 0x3FF
#: Level-triggered events: re-raised by their re-enabling call while the condition holds.
LEVEL = READ | OOB | ACCEPT

EVENT_NAMES: dict[str, int] = {f"FD_{f.name}": int(f.value) for f in FD}
BIT_NAMES: dict[int, str] = {v: k for k, v in EVENT_NAMES.items()}


def bit_name(bit: int) -> str:
    """``0x01`` -> ``"FD_READ"``."""
    return BIT_NAMES[bit]


def mask_names(mask: int) -> list[str]:
    """The FD_ names of a mask, lowest bit first (FD_READ, FD_WRITE, ...)."""
    return [name for bit, name in BIT_NAMES.items() if mask & bit]


def mask_text(mask: int) -> str:
    """``FD_READ|FD_CLOSE``, or ``0`` for an empty mask."""
    return "|".join(mask_names(mask)) or "0"


class WSAError(IntEnum):
    """Error codes the simulator can return or carry in a notification."""

    WSAEINTR = 10004
    WSAEFAULT = 10014
    WSAEINVAL = 10022
    WSAEWOULDBLOCK = 10035
    WSAEALREADY = 10037
    WSAENOTSOCK = 10038
    WSAECONNABORTED = 10053
    WSAECONNRESET = 10054
    WSAEISCONN = 10056
    WSAENOTCONN = 10057
    WSAESHUTDOWN = 10058
    WSAECONNREFUSED = 10061
    WSATRY_AGAIN = 11002
    WSA_INVALID_HANDLE = 6
    WSA_INVALID_PARAMETER = 87


#: WSA_MAXIMUM_WAIT_EVENTS (= MAXIMUM_WAIT_OBJECTS): WSAWaitForMultipleEvents takes 1..64
#: handles, and fails with WSA_INVALID_PARAMETER otherwise (R77).
WSA_MAXIMUM_WAIT_EVENTS = 64

ERROR_NAMES: dict[int, str] = {int(e): e.name for e in WSAError}


def error_name(code: int) -> str:
    """``10035`` -> ``"WSAEWOULDBLOCK"``."""
    return ERROR_NAMES.get(code, str(code))


class POLL(IntFlag):
    """WSAPoll's event and revents bits (winsock2.h)."""

    RDNORM = 0x0100
    RDBAND = 0x0200
    PRI = 0x0400
    WRNORM = 0x0010
    WRBAND = 0x0020
    ERR = 0x0001
    HUP = 0x0002
    NVAL = 0x0004


#: Names a WSAPoll ``events`` list may use: POLLIN is RDNORM|RDBAND, POLLOUT is WRNORM.
POLL_REQUESTS: dict[str, int] = {
    "POLLRDNORM": POLL.RDNORM,
    "POLLRDBAND": POLL.RDBAND,
    "POLLIN": POLL.RDNORM | POLL.RDBAND,
    "POLLPRI": POLL.PRI,
    "POLLWRNORM": POLL.WRNORM,
    "POLLOUT": POLL.WRNORM,
    "POLLWRBAND": POLL.WRBAND,
}
#: revents bits by name, in the order results list them.
POLL_NAMES: dict[int, str] = {
    int(POLL.RDNORM): "POLLRDNORM",
    int(POLL.RDBAND): "POLLRDBAND",
    int(POLL.WRNORM): "POLLWRNORM",
    int(POLL.ERR): "POLLERR",
    int(POLL.HUP): "POLLHUP",
    int(POLL.NVAL): "POLLNVAL",
}


def poll_names(revents: int) -> list[str]:
    """``POLL.RDNORM | POLL.HUP`` -> ``["POLLRDNORM", "POLLHUP"]``."""
    return [name for bit, name in POLL_NAMES.items() if revents & bit]


def poll_request_names(events: int) -> list[str]:
    """A WSAPoll ``events`` mask in the names a scenario file uses (POLLIN and POLLOUT
    are spelt out as their parts)."""
    return [POLL_NAMES_ASKED[bit] for bit in POLL_NAMES_ASKED if events & bit]


#: The single-bit names of what WSAPoll can be asked, in order.
POLL_NAMES_ASKED: dict[int, str] = {
    int(POLL.RDNORM): "POLLRDNORM",
    int(POLL.RDBAND): "POLLRDBAND",
    int(POLL.PRI): "POLLPRI",
    int(POLL.WRNORM): "POLLWRNORM",
    int(POLL.WRBAND): "POLLWRBAND",
}
