"""Semantic profiles: one value for every decision point of semantics.md section 4.

The engine reads these fields, never a profile's name, so a decision is made in
exactly one place and a third profile (an older Windows, Wine) is one more instance:
``wine`` is ``observed`` with Wine 8.0's known deviations from Windows (WINE_DEVIATIONS).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from .winsock import ACCEPT, CLOSE, CONNECT, OOB, READ, WRITE, WSAError


class NonlastClose(StrEnum):
    """What closing a non-last descriptor does to the socket's registration."""

    NEVER = "never"
    IF_REGISTERED_VIA_DESCRIPTOR = "if_registered_via_descriptor"
    ALWAYS = "always"


@dataclass(frozen=True, slots=True)
class Profile:
    """The decision points; field names are the spec's, so evidence maps one-to-one."""

    name: str
    records_outside_mask: bool
    eventselect_clears_record: bool
    eventselect_reports_current_conditions: bool
    asyncselect_reposts_current_conditions: bool
    connect_reported_on_register_when_connected: bool
    asyncselect_discards_record: bool
    select_clears_latch: bool
    select_resets_event_object: bool
    enum_clears_only_masked_bits: bool
    reenable_clears_recorded_bit: bool
    successful_send_clears_pending_write: bool
    failed_recv_reenables_in_event_mode: bool
    normal_recv_reenables_oob: bool
    fd_close_waits_for_drain: bool
    fd_close_error_on_reset: int
    post_order: tuple[int, ...]
    accepted_socket_inherits_registration: bool
    close_of_nonlast_descriptor_cancels_registration: NonlastClose
    dup_info_holds_reference: bool
    shutdown_cancels_registration: bool
    fionbio_blocking_rejected_while_registered: bool
    send_accepts_partial: bool
    #: WSAEventSelect, like WSAAsyncSelect, lifts the latch (``select_clears_latch``);
    #: false: only WSAAsyncSelect does, a WSAEventSelect leaves latched bits latched
    eventselect_clears_latch: bool
    #: a recv failing with WSAEFAULT (bad buffer) re-enables like any other failing recv;
    #: false: it never reaches the socket and re-enables nothing, in either mode
    recv_fault_reenables: bool
    #: a select call's re-check reports FD_CLOSE after a reset as after a FIN
    recheck_reports_close_after_reset: bool
    #: shutdown(SD_BOTH) also drops the registration (``shutdown_cancels_registration``
    #: covers every shutdown)
    shutdown_both_cancels_registration: bool
    #: recv after a reset fails with WSAECONNRESET; false: it returns 0, as at a FIN
    recv_reports_reset: bool
    #: an urgent byte arriving while one is unread replaces it (the host keeps one)
    urgent_replaces_unread: bool
    #: with ``fd_close_waits_for_drain``, a FIN is reported at once all the same when the
    #: local side has shut down sending too (the connection is closed both ways)
    fd_close_at_once_when_both_shut: bool

    def recheck_bits(self, message_mode: bool) -> int:
        """Bits a select call re-raises from current conditions (RECHECK in 3.3)."""
        reports = (
            self.asyncselect_reposts_current_conditions
            if message_mode
            else self.eventselect_reports_current_conditions
        )
        if not reports:
            return 0
        base = READ | OOB | ACCEPT | WRITE | CLOSE
        return base | CONNECT if self.connect_reported_on_register_when_connected else base


POST_ORDER: tuple[int, ...] = (CONNECT, ACCEPT, OOB, READ, WRITE, CLOSE)

DOCUMENTED = Profile(
    name="documented",
    records_outside_mask=False,
    eventselect_clears_record=True,
    eventselect_reports_current_conditions=True,
    asyncselect_reposts_current_conditions=True,
    connect_reported_on_register_when_connected=True,
    asyncselect_discards_record=False,
    select_clears_latch=True,
    select_resets_event_object=False,
    enum_clears_only_masked_bits=False,
    reenable_clears_recorded_bit=False,
    successful_send_clears_pending_write=False,
    failed_recv_reenables_in_event_mode=True,
    normal_recv_reenables_oob=True,
    fd_close_waits_for_drain=True,
    fd_close_error_on_reset=int(WSAError.WSAECONNRESET),
    post_order=POST_ORDER,
    accepted_socket_inherits_registration=True,
    close_of_nonlast_descriptor_cancels_registration=NonlastClose.IF_REGISTERED_VIA_DESCRIPTOR,
    dup_info_holds_reference=True,
    shutdown_cancels_registration=False,
    fionbio_blocking_rejected_while_registered=True,
    send_accepts_partial=True,
    eventselect_clears_latch=True,
    recv_fault_reenables=True,
    recheck_reports_close_after_reset=True,
    shutdown_both_cancels_registration=False,
    recv_reports_reset=True,
    urgent_replaces_unread=False,
    fd_close_at_once_when_both_shut=False,
)

OBSERVED = Profile(
    name="observed",
    records_outside_mask=True,
    eventselect_clears_record=False,
    eventselect_reports_current_conditions=False,
    asyncselect_reposts_current_conditions=True,
    connect_reported_on_register_when_connected=False,
    asyncselect_discards_record=True,
    select_clears_latch=True,
    select_resets_event_object=False,
    enum_clears_only_masked_bits=True,
    reenable_clears_recorded_bit=True,
    successful_send_clears_pending_write=False,
    failed_recv_reenables_in_event_mode=False,
    normal_recv_reenables_oob=True,
    fd_close_waits_for_drain=False,
    fd_close_error_on_reset=int(WSAError.WSAECONNABORTED),
    post_order=POST_ORDER,
    accepted_socket_inherits_registration=True,
    close_of_nonlast_descriptor_cancels_registration=NonlastClose.NEVER,
    dup_info_holds_reference=True,
    shutdown_cancels_registration=False,
    fionbio_blocking_rejected_while_registered=True,
    send_accepts_partial=False,
    eventselect_clears_latch=True,
    recv_fault_reenables=True,
    recheck_reports_close_after_reset=True,
    shutdown_both_cancels_registration=False,
    recv_reports_reset=True,
    urgent_replaces_unread=False,
    fd_close_at_once_when_both_shut=False,
)

#: Wine 8.0's known deviations from Windows: the decision points where ``wine`` differs
#: from ``observed``, each with its evidence. Test lines are in Wine's
#: dlls/ws2_32/tests/sock.c (about the lines windows-observed-cases.md cites, commit
#: 3379ee2e); a ``todo_wine`` check is one Wine is known to fail, so Windows' value is
#: in ``observed`` and Wine's here. ``crosscheck`` quotes these when it classes a
#: difference ``known``; a test checks that they name exactly the fields that differ.
WINE_EVIDENCE: dict[str, str] = {
    "eventselect_clears_latch": (
        "Wine's WSAEventSelect leaves reported events latched: todo_wine in sock.c "
        "test_accept_events (check_events_todo for the second connection, about L6600, "
        "W1.5), test_read_events (check_events_todo after the second send, about L7000, "
        "W15.5) and test_oob_events (check_events_todo_event for the second urgent byte, "
        "about L7095, W20.5)"
    ),
    "recv_fault_reenables": (
        "Wine fails recv with a bad buffer before it reaches the socket, so nothing is "
        "re-enabled: todo_wine in sock.c test_read_events (check_events_todo_msg after "
        "recv(server, buffer, -1, 0) fails with WSAEFAULT, about L7010, W15.7) and in the "
        "older test_events (failed recv re-enables for messages, W36.6)"
    ),
    "fd_close_waits_for_drain": (
        "Wine withholds FD_CLOSE until the unread data is read: todo_wine in sock.c "
        "test_close_events (check_events_todo for FD_CLOSE after closesocket(client) with "
        "5 bytes unread, and check_events_todo for nothing after the last recv, about "
        "L7155-7165, W24); older test_events: 'We can never implement this in wine' "
        "(W40, W41)"
    ),
    "fd_close_error_on_reset": (
        "Wine 8.0's missing reset error: a reset is reported as FD_CLOSE with error 0. "
        "Windows reports WSAECONNABORTED (sock.c test_close_events, "
        "MAKELONG(FD_CLOSE, WSAECONNABORTED) after close_with_rst, about L7180, W27); "
        "Wine passes that check only after 8.0"
    ),
    "recv_reports_reset": (
        "Wine 8.0's missing reset error: after a reset recv returns 0 as at a graceful "
        "close, where Windows fails with WSAECONNRESET (sock.c test_tcp_reset, W50)"
    ),
    "recheck_reports_close_after_reset": (
        "after a reset Wine's WSAAsyncSelect does not post FD_CLOSE again: todo_wine in "
        "sock.c test_close_events (check_events_todo for MAKELONG(FD_CLOSE, "
        "WSAECONNABORTED) after each reselect in message mode, about L7185, W27.3-W27.4)"
    ),
    "shutdown_both_cancels_registration": (
        "Wine's shutdown(SD_BOTH) drops the registration: todo_wine in sock.c "
        "test_close_events (check_events_todo for FD_CLOSE after the peer's SD_SEND that "
        "follows shutdown(server, SD_BOTH), about L7140, W23)"
    ),
    "fd_close_at_once_when_both_shut": (
        "Wine sees a FIN from a 0-byte recv(MSG_PEEK), so only once the data is read, or "
        "from POLLHUP, which Linux reports at once when both directions are shut "
        "(server/sock.c sock_poll_event, hangup_seen); so with the local side shut down "
        "for sending FD_CLOSE comes with the data, as Windows always does (W24, W31)"
    ),
    "urgent_replaces_unread": (
        "Wine's host (Linux TCP) keeps one urgent byte, so a second MSG_OOB byte replaces "
        "the first: todo_wine in sock.c test_oob_events (check_events_todo for FD_OOB "
        "after the first recv(MSG_OOB), and todo_wine ok(ret == 1) for the second, about "
        "L7100, W20.6-W20.7)"
    ),
}

#: observed with Wine 8.0's deviations (WINE_EVIDENCE)
WINE = replace(
    OBSERVED,
    name="wine",
    eventselect_clears_latch=False,
    recv_fault_reenables=False,
    fd_close_waits_for_drain=True,
    fd_close_error_on_reset=0,
    recv_reports_reset=False,
    recheck_reports_close_after_reset=False,
    shutdown_both_cancels_registration=True,
    urgent_replaces_unread=True,
    fd_close_at_once_when_both_shut=True,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (OBSERVED, DOCUMENTED, WINE)}


def get_profile(name: str) -> Profile:
    """Look a profile up by name; a clear error names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown profile {name!r} (known: {known})") from None
