"""Readiness as select() and WSAPoll() report it: a function of a socket's state alone.

Neither call touches notification state (W29): nothing here writes to a socket. Each
answer also says which FD_ events it shows its caller, because a result that shows a
condition counts as the caller learning it (the oracle's discovery, semantics 6.1).
"""

from __future__ import annotations

from ..profiles import Profile
from ..winsock import ACCEPT, BIT_NAMES, CLOSE, CONNECT, OOB, POLL, READ, WRITE
from .sockets import State, UnderlyingSocket

_RDNORM, _RDBAND, _WRNORM = int(POLL.RDNORM), int(POLL.RDBAND), int(POLL.WRNORM)
_ERR, _HUP = int(POLL.ERR), int(POLL.HUP)


def readable(s: UnderlyingSocket) -> bool:
    """select's readfds: a connection pending on a listener, data queued, FIN or reset."""
    if s.state == State.LISTENING:
        return bool(s.accq)
    return s.rx > 0 or s.fin or s.rst


def writable(s: UnderlyingSocket) -> bool:
    """select's writefds: connected (a nonblocking connect succeeded) with send space.
    A reset leaves the socket writable; the send then fails (W50)."""
    return s.state == State.CONNECTED and s.snd_free > 0


def exceptional(s: UnderlyingSocket) -> bool:
    """select's exceptfds: urgent data not inline, or a connect that failed (W49)."""
    return s.oob > 0 or s.state == State.CONNECT_FAILED


def shown_by_read(s: UnderlyingSocket) -> int:
    """The FD_ event a readable socket shows: the data hides a FIN behind it."""
    if s.state == State.LISTENING:
        return ACCEPT
    return READ if s.rx > 0 else CLOSE


def shown_by_write(s: UnderlyingSocket) -> int:
    """Writable shows FD_WRITE, and that the connect succeeded."""
    return WRITE | CONNECT


def shown_by_except(s: UnderlyingSocket) -> int:
    """Exceptional shows urgent data, or the connect's (failed) outcome."""
    return (OOB if s.oob > 0 else 0) | (CONNECT if s.state == State.CONNECT_FAILED else 0)


def revents(s: UnderlyingSocket, events: int, p: Profile) -> tuple[int, int]:
    """WSAPoll's revents for one socket asked ``events``, and the FD_ bits they show.

    POLLHUP and POLLERR are reported whether asked or not; what a failed connect shows is
    the profile's ``poll_failed_connect_revents``."""
    out = shown = 0
    if events & _RDNORM and readable(s) and (s.state == State.LISTENING or s.rx > 0):
        out |= _RDNORM
        shown |= ACCEPT if s.state == State.LISTENING else READ
    if events & _RDBAND and s.oob > 0:
        out |= _RDBAND
        shown |= OOB
    if events & _WRNORM and writable(s):
        out |= _WRNORM
        shown |= WRITE | CONNECT
    if s.rst or (s.fin and not (p.poll_hangup_waits_for_drain and s.rx > 0)):
        out |= _HUP
        shown |= CLOSE
    if s.rst:
        out |= _ERR
    if s.state == State.CONNECT_FAILED and p.poll_failed_connect_revents:
        out |= p.poll_failed_connect_revents
        shown |= CONNECT
    return out, shown


def shown_pairs(sock: str, bits: int) -> list[list[str]]:
    """``[[socket, FD_name], ...]`` for a record's ``shows`` fact."""
    return [[sock, name] for bit, name in BIT_NAMES.items() if bits & bit]
