"""TCP between simulated sockets: connect, data with flow control, urgent data, FIN, RST.

Every network happening is a scheduled callback (no simpy process per connection), and
segments from one sender arrive in the order sent (semantics 3.4).
"""

from __future__ import annotations

import random
from typing import Any

from ..plan import NetworkPlan
from ..trace import Kind, Reason
from ..winsock import ACCEPT, CLOSE, CONNECT, OOB, READ, WRITE, WSAError
from .compat import Callback, Environment
from .notify import Notifier
from .sockets import SocketTable, State, Totals, UnderlyingSocket

SUPPRESS = Kind.SUPPRESS


class Network:
    """Moves bytes, FINs and RSTs between connected sockets and raises their events."""

    __slots__ = ("_bytes", "_jitter", "_latency", "env", "notifier", "rng", "table", "totals")

    def __init__(
        self,
        env: Environment,
        notifier: Notifier,
        table: SocketTable,
        totals: Totals,
        net: NetworkPlan,
        rng: random.Random,
    ) -> None:
        self.env = env
        self.notifier = notifier
        self.table = table
        self.totals = totals
        self.rng = rng
        self._latency = net.latency_us
        self._jitter = net.jitter
        self._bytes: dict[int, dict[str, int]] = {}  # {"bytes": n} per size, made once

    @property
    def latency(self) -> int:
        """One-way delay of the next segment: the base latency plus this run's jitter."""
        if self._jitter is None:
            return self._latency
        return self._latency + self._jitter.draw(self.rng)

    def _sized(self, n: int) -> dict[str, int]:
        data = self._bytes.get(n)
        if data is None:
            data = self._bytes[n] = {"bytes": n}
        return data

    # -- scheduling -------------------------------------------------------------

    def _send_segment(self, src: UnderlyingSocket, fn: Any, args: tuple[Any, ...]) -> None:
        """Deliver ``fn(*args)`` after one latency, never before src's earlier segments."""
        now = self.env.now
        at = now + (self._latency if self._jitter is None else self.latency)
        if at < src.last_arrival:
            at = src.last_arrival
        src.last_arrival = at
        Callback(self.env, at - now, fn, args)

    def _later(self, fn: Any, args: tuple[Any, ...]) -> None:
        """``fn(*args)`` after one latency (a segment that keeps no order with others)."""
        Callback(self.env, self.latency, fn, args)

    # -- connection setup --------------------------------------------------------

    def connect(self, client: UnderlyingSocket, listener: UnderlyingSocket | None) -> None:
        """Start a TCP connect; ``listener`` None means the peer refuses."""
        client.state = State.CONNECTING
        self._later(self._syn_arrival, (client, listener))

    def _syn_arrival(self, client: UnderlyingSocket, listener: UnderlyingSocket | None) -> None:
        if (
            listener is None
            or listener.closed
            or listener.state != State.LISTENING
            or len(listener.accq) >= listener.backlog
        ):
            self._later(self._connect_done, (client, None))
            return
        server = self.table.new()
        server.state = State.CONNECTED
        server.peer = client
        listener.accq.append(server)
        n = self.notifier
        why = Reason.CONNECTION_REQUEST
        n.raise_(listener, ACCEPT, 0, n.occur(listener, ACCEPT, why, None, {"from": client.id}))
        self.table.wake(listener)
        self._later(self._connect_done, (client, server))

    def _connect_done(self, client: UnderlyingSocket, server: UnderlyingSocket | None) -> None:
        n = self.notifier
        if client.closed:
            if server is not None:
                self._send_segment(client, self._rst_arrival, (server,))
            return
        if server is None:
            client.state = State.CONNECT_FAILED
            client.connect_err = client.so_error = int(WSAError.WSAECONNREFUSED)
            n.connection_outcome(client, CONNECT)
            occ = n.occur(client, CONNECT, Reason.CONNECT_REFUSED)
            n.raise_(client, CONNECT, client.connect_err, occ)
        else:
            self.establish(client, server)
        self.table.wake(client)

    def establish(self, client: UnderlyingSocket, server: UnderlyingSocket) -> None:
        """The client side becomes CONNECTED: FD_CONNECT, then FD_WRITE (R43; W8)."""
        n = self.notifier
        client.state = State.CONNECTED
        client.peer = server
        server.peer = client
        client.connect_err = client.so_error = 0
        n.connection_outcome(client, CONNECT | WRITE)
        n.raise_(client, CONNECT, 0, n.occur(client, CONNECT, Reason.CONNECTED))
        n.raise_(client, WRITE, 0, n.occur(client, WRITE, Reason.CONNECTED_WRITABLE))

    # -- data ----------------------------------------------------------------------

    def pump(self, src: UnderlyingSocket) -> None:
        """Move queued bytes onto the wire while the peer's window has room; then FIN."""
        peer = src.peer
        if peer is None or src.rst or src.aborted:
            return
        if src.sndq:
            room = peer.rcvbuf - peer.rx - src.inflight
            if room > 0:
                move = src.sndq if src.sndq < room else room
                full_before = src.snd_free == 0
                src.sndq -= move
                src.inflight += move
                self._send_segment(src, self._data_arrival, (src, peer, move))
                if full_before and src.snd_free > 0:
                    self.space_freed(src)
        if src.fin_pending and not src.sndq and not src.fin_sent:
            src.fin_sent = True
            self._send_segment(src, self._fin_arrival, (peer,))

    def space_freed(self, s: UnderlyingSocket) -> None:
        """Send-buffer space after WSAEWOULDBLOCK re-arms FD_WRITE (R44; W12, W39)."""
        self.table.wake(s)
        if s.write_blocked:
            s.write_blocked = False
            n = self.notifier
            n.raise_(s, WRITE, 0, n.occur(s, WRITE, Reason.SPACE_FREED))

    def _data_arrival(self, src: UnderlyingSocket, dst: UnderlyingSocket, nbytes: int) -> None:
        src.inflight -= nbytes
        refused = dst.shut_recv and self.notifier.p.shutdown_receive_resets
        if dst.closed or refused or dst.aborted or dst.rst:
            self.totals.dropped += nbytes
            if not dst.rst:
                self._reset_from(dst)
            return
        dst.rx += nbytes
        n = self.notifier
        occ = n.occur(dst, READ, Reason.DATA, None, self._sized(nbytes))
        if n.p.pending_recv_takes_arriving_data and self._recv_waiting(dst):
            # the recv waiting on the socket takes the bytes before they are reported
            n.emit(SUPPRESS, None, None, dst.id, "FD_READ", Reason.TAKEN_BY_PENDING_RECV, occ)
        else:
            n.raise_(dst, READ, 0, occ)
        self.table.wake(dst)

    @staticmethod
    def _recv_waiting(s: UnderlyingSocket) -> bool:
        """A process is blocked in a (normal) recv on ``s``."""
        return any(
            p.current is not None and p.current.name == "recv" and not p.current.args.get("oob")
            for p in s.waiters
        )

    def send_urgent(self, src: UnderlyingSocket, nbytes: int) -> None:
        """MSG_OOB data travels in order but outside the receive window."""
        peer = src.peer
        if peer is not None:
            src.inflight += nbytes  # counted in flight, so no byte is ever unaccounted for
            self._send_segment(src, self._oob_arrival, (src, peer, nbytes))
        else:
            self.totals.dropped += nbytes

    def _oob_arrival(self, src: UnderlyingSocket, dst: UnderlyingSocket, nbytes: int) -> None:
        src.inflight -= nbytes
        if dst.closed or dst.shut_recv or dst.aborted or dst.rst:
            self.totals.dropped += nbytes
            return
        n = self.notifier
        sized = self._sized(nbytes)
        if dst.oobinline:
            dst.rx += nbytes
            if n.p.oobinline_also_reports_oob:
                n.raise_(dst, OOB, 0, n.occur(dst, OOB, Reason.URGENT_INLINE, None, sized))
            n.raise_(dst, READ, 0, n.occur(dst, READ, Reason.URGENT_INLINE, None, sized))
        else:
            if dst.oob and n.p.urgent_replaces_unread:  # the host keeps one urgent byte
                self.totals.dropped += dst.oob
                dst.oob = 0
            dst.oob += nbytes
            n.raise_(dst, OOB, 0, n.occur(dst, OOB, Reason.URGENT, None, sized))
        self.table.wake(dst)

    def window_opened(self, receiver: UnderlyingSocket) -> None:
        """The receiver read bytes; its peer learns after one latency and sends more."""
        src = receiver.peer
        if src is None or src.update_pending or not (src.sndq or src.fin_pending):
            return
        src.update_pending = True
        self._later(self._window_update, (src,))

    def _window_update(self, src: UnderlyingSocket) -> None:
        src.update_pending = False
        self.pump(src)

    # -- closing -----------------------------------------------------------------

    def send_fin(self, s: UnderlyingSocket) -> None:
        """Graceful close or SD_SEND: FIN after the queued bytes."""
        if s.fin_pending:
            return
        s.fin_pending = True
        self.pump(s)

    def _fin_arrival(self, dst: UnderlyingSocket) -> None:
        if dst.fin or dst.rst or dst.closed:
            return  # one FD_CLOSE per connection (R49; W22)
        dst.fin = True
        dst.close_err = 0
        n = self.notifier
        p = n.p
        if (
            p.fd_close_waits_for_drain
            and dst.rx > 0
            and not (dst.shut_send and p.fd_close_at_once_when_both_shut)
        ):
            dst.close_deferred = True  # R50: the FIN occurrence is dated at drain
        else:
            n.raise_(dst, CLOSE, 0, n.occur(dst, CLOSE, Reason.FIN))
        self.table.wake(dst)

    def both_shut(self, s: UnderlyingSocket, cause: int) -> None:
        """The local side shut down sending after a FIN withheld for unread data: the
        connection is closed both ways, and a profile may report the FIN now."""
        if s.close_deferred and self.notifier.p.fd_close_at_once_when_both_shut:
            s.close_deferred = False
            n = self.notifier
            n.raise_(s, CLOSE, 0, n.occur(s, CLOSE, Reason.FIN_BOTH_SHUT, cause))

    def rx_drained(self, s: UnderlyingSocket, cause: int) -> None:
        """rx reached 0: a withheld FD_CLOSE is raised now (R50)."""
        if s.close_deferred:
            s.close_deferred = False
            n = self.notifier
            n.raise_(s, CLOSE, 0, n.occur(s, CLOSE, Reason.FIN_DRAINED, cause))

    def abort(self, s: UnderlyingSocket) -> None:
        """Hard close: drop unsent bytes and send RST after what is already on the wire."""
        self.totals.dropped += s.sndq
        s.sndq = 0
        peer = s.peer
        if peer is not None and not s.rst:
            self._send_segment(s, self._rst_arrival, (peer,))

    def _reset_from(self, s: UnderlyingSocket) -> None:
        """Data reached a socket that no longer receives: it answers with RST (R83)."""
        if not s.aborted:
            s.aborted = True
            self.abort(s)

    def _rst_arrival(self, dst: UnderlyingSocket) -> None:
        if dst.rst or dst.closed:
            return
        dst.rst = True
        self.totals.dropped += dst.sndq
        dst.sndq = 0
        if self.notifier.p.reset_discards_unread_data:
            self.totals.dropped += dst.rx + dst.oob
            dst.rx = dst.oob = 0
        dst.close_deferred = False
        dst.close_err = self.notifier.p.fd_close_error_on_reset
        n = self.notifier
        n.raise_(dst, CLOSE, dst.close_err, n.occur(dst, CLOSE, Reason.RST))
        self.table.wake(dst)
