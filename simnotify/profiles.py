"""Semantic profiles: one value for every decision point of docs/semantics.md section 4.

The engine reads these fields, never a profile's name, so a decision is made in
exactly one place and a third profile (an older Windows, Wine) is one more instance:
``wine`` is ``observed`` with Wine 8.0's known deviations from Windows (WINE_DEVIATIONS).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from .winsock import ACCEPT, CLOSE, CONNECT, OOB, POLL, READ, WRITE, WSAError


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
    #: a recv with MSG_OOB re-enables FD_READ as well as FD_OOB; false: FD_OOB only
    oob_recv_reenables_read: bool
    #: a normal recv that reaches the urgent mark drops the unread urgent byte (Linux)
    normal_recv_drops_urgent: bool
    #: data arriving while a process is blocked in recv on the socket goes to that recv
    #: and raises no FD_READ (the pending request is served first)
    pending_recv_takes_arriving_data: bool
    #: a second WSASocket with a used protocol info fails with WSAEINVAL (R2)
    protocol_info_single_use: bool
    #: urgent data with SO_OOBINLINE raises FD_OOB as well as FD_READ
    oobinline_also_reports_oob: bool
    #: WSAEventSelect with mask 0 still fails WSAEINVAL for a dead event handle
    eventselect_zero_mask_checks_event: bool
    #: WSAAsyncSelect with a destroyed window fails WSAEINVAL (R31)
    asyncselect_checks_window: bool
    #: a reset discards the bytes not yet read (recv cannot get them)
    reset_discards_unread_data: bool
    #: a WSAAccept deferred by its condition function (CF_DEFER) re-enables FD_ACCEPT
    deferred_accept_reenables: bool
    #: WSAEnumNetworkEvents with a dead event handle fails WSA_INVALID_HANDLE (R71)
    enum_checks_event_handle: bool
    #: a wait-all WSAWaitForMultipleEvents naming one event twice fails (R77)
    wait_all_rejects_duplicates: bool
    #: shutdown(SD_RECEIVE) with unread data, or data arriving after it, resets (R83)
    shutdown_receive_resets: bool
    #: with ``fd_close_waits_for_drain``, a FIN is reported at once all the same when the
    #: local side has shut down sending too (the connection is closed both ways)
    fd_close_at_once_when_both_shut: bool
    #: WSAPoll's revents for a failed connect (POLL bits). The WSAPoll page documents
    #: POLLHUP|POLLERR; Windows reported nothing until Windows 10 version 2004 (the page's
    #: note on the fix, and the workarounds curl and libuv carried for it), so observed
    #: keeps the years of Windows without it: the socket is simply never ready
    poll_failed_connect_revents: int
    #: getsockopt(SO_ERROR) clears the error it returns. The getsockopt page says so
    #: ("retrieves error status and clear"); W49's interactive part reads WSAECONNREFUSED
    #: again after a second connect() call, so observed keeps it until a connection
    #: succeeds (inferred: no test reads it twice in a row); Wine 8.0 keeps it too
    so_error_read_clears: bool
    #: WSAPoll fails with WSAEINVAL when asked for POLLPRI (the WSAPoll page: not supported)
    poll_rejects_pollpri: bool
    #: WSAPoll reports POLLHUP for a FIN only once the data before it has been read
    poll_hangup_waits_for_drain: bool
    #: a select or WSAPoll on a socket whose record holds a selected bit signals the
    #: registration's event object again (W29 says it must not)
    polling_signals_recorded_events: bool

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
    oob_recv_reenables_read=True,
    normal_recv_drops_urgent=False,
    pending_recv_takes_arriving_data=False,
    protocol_info_single_use=True,
    oobinline_also_reports_oob=False,
    eventselect_zero_mask_checks_event=False,
    asyncselect_checks_window=True,
    reset_discards_unread_data=True,
    deferred_accept_reenables=False,
    enum_checks_event_handle=True,
    wait_all_rejects_duplicates=True,
    shutdown_receive_resets=True,
    poll_failed_connect_revents=int(POLL.ERR | POLL.HUP),
    so_error_read_clears=True,
    poll_rejects_pollpri=True,
    poll_hangup_waits_for_drain=False,
    polling_signals_recorded_events=False,
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
    oob_recv_reenables_read=True,
    normal_recv_drops_urgent=False,
    pending_recv_takes_arriving_data=False,
    protocol_info_single_use=True,
    oobinline_also_reports_oob=False,
    eventselect_zero_mask_checks_event=False,
    asyncselect_checks_window=True,
    reset_discards_unread_data=True,
    deferred_accept_reenables=False,
    enum_checks_event_handle=True,
    wait_all_rejects_duplicates=True,
    shutdown_receive_resets=True,
    poll_failed_connect_revents=0,
    so_error_read_clears=False,
    poll_rejects_pollpri=True,
    poll_hangup_waits_for_drain=False,
    polling_signals_recorded_events=False,
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
    # Points no Windows test decides (observed's value is inferred there), where
    # cross-checking shows what Wine does: tests/conformance/undecided/ (README there).
    "eventselect_reports_current_conditions": (
        "Wine's WSAEventSelect re-polls and reports every selected condition that is not "
        "latched (server/sock.c, IOCTL_AFD_EVENT_SELECT then sock_wake_up). Where Windows "
        "was tested the bits were latched and neither reports anything (W1, W15, W28); "
        "after WSAAsyncSelect, or an occurrence dropped in message mode, Wine reports "
        "(U08, U09: undecided on Windows)"
    ),
    "normal_recv_reenables_oob": (
        "Wine's recv without MSG_OOB re-enables FD_READ only (server/sock.c recv_socket "
        "clears READ, or OOB with MSG_OOB); observed's true is inferred, only recv(MSG_OOB) "
        "was tested on Windows (W20); U07 shows Wine"
    ),
    "oob_recv_reenables_read": (
        "Wine's recv(MSG_OOB) re-enables FD_OOB only, so a latched FD_READ stays latched "
        "(server/sock.c recv_socket; U06); no Windows test decides it"
    ),
    "normal_recv_drops_urgent": (
        "Wine's host (Linux TCP) drops an unread urgent byte once a normal recv reaches the "
        "urgent mark: recv(MSG_OOB) then finds nothing (U07); no Windows test decides it"
    ),
    "pending_recv_takes_arriving_data": (
        "a recv waiting on the socket (in Wine a blocking recv is an asynchronous request) "
        "takes arriving data before any FD_READ is recorded (server/sock.c "
        "sock_dispatch_asyncs; U11); on Windows the overlapped cases W19, W35, W37 and W38 "
        "show the same for WSARecv"
    ),
    # Where Wine departs from Microsoft's documentation and no Windows test decides it:
    # found by cross-checking the documented-rule files (tests/conformance/documented/);
    # observed keeps the documented value, which no test on Windows has contradicted.
    "protocol_info_single_use": (
        "Wine's WSASocket accepts a protocol info a second time (its info carries a handle "
        "already duplicated into the target); the docs say WSAEINVAL (R2; R02 files)"
    ),
    "oobinline_also_reports_oob": (
        "Wine 8.0 reports urgent data as FD_OOB and FD_READ even with SO_OOBINLINE; the "
        "docs say FD_READ only (R55; R04 and R55 files)"
    ),
    "eventselect_zero_mask_checks_event": (
        "Wine's WSAEventSelect checks the event handle even with mask 0, so a dead one "
        "fails WSAEINVAL and the registration stays; the docs say the handle is ignored "
        "(R21; R21 file)"
    ),
    "asyncselect_checks_window": (
        "Wine's WSAAsyncSelect accepts a destroyed window, and later posts go nowhere; the "
        "docs say WSAEINVAL (R31; R31 file)"
    ),
    "reset_discards_unread_data": (
        "on Wine's host (Linux TCP) bytes received before a reset can still be read; "
        "Windows discards them (R51, R81; R51 reset-after-FIN file)"
    ),
    "deferred_accept_reenables": (
        "Wine's WSAAccept deferred with CF_DEFER re-enables FD_ACCEPT, so it is posted "
        "again; the docs say it is not (R58; R58 file)"
    ),
    "enum_checks_event_handle": (
        "Wine's WSAEnumNetworkEvents with a dead event handle succeeds and takes the "
        "record; the docs say it fails and changes nothing (R71, R79; R71 and R79 files)"
    ),
    "wait_all_rejects_duplicates": (
        "Wine's wait-all WSAWaitForMultipleEvents accepts one event twice; the docs say "
        "WSA_INVALID_PARAMETER (R77; R77 duplicate-handle file)"
    ),
    "shutdown_receive_resets": (
        "Wine's host (Linux TCP) does not reset a connection for shutdown(SD_RECEIVE) with "
        "unread data, nor for data arriving after it; the docs say it does (R83; R83 files)"
    ),
    # Found by cross-checking the readiness files (select, WSAPoll).
    "poll_rejects_pollpri": (
        "Wine 8.0's WSAPoll accepts POLLPRI and reports nothing for it; the WSAPoll page "
        "says it is not supported (WSAPoll_revents file)"
    ),
    "poll_failed_connect_revents": (
        "Wine 8.0's WSAPoll reports a failed connect as POLLERR alone; the page documents "
        "POLLHUP|POLLERR, and Windows before 10 version 2004 reported nothing "
        "(WSAPoll_revents file)"
    ),
    "poll_hangup_waits_for_drain": (
        "Wine reports POLLHUP for a FIN only once the data before it is read: it learns of "
        "the FIN from a 0-byte recv(MSG_PEEK), as for FD_CLOSE (fd_close_waits_for_drain); "
        "Windows reports POLLWRNORM|POLLRDNORM|POLLHUP (W50, test_WSAPoll; W50 file)"
    ),
    "polling_signals_recorded_events": (
        "Wine's WSAPoll and select signal a WSAEventSelect event again while its record "
        "holds a selected event (they poll through the server, which re-reports pending "
        "events); Windows does not (W29, test_select_after_WSAEventSelect; W29 file)"
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
    eventselect_reports_current_conditions=True,
    normal_recv_reenables_oob=False,
    oob_recv_reenables_read=False,
    normal_recv_drops_urgent=True,
    pending_recv_takes_arriving_data=True,
    protocol_info_single_use=False,
    oobinline_also_reports_oob=True,
    eventselect_zero_mask_checks_event=True,
    asyncselect_checks_window=False,
    reset_discards_unread_data=False,
    deferred_accept_reenables=True,
    enum_checks_event_handle=False,
    wait_all_rejects_duplicates=False,
    shutdown_receive_resets=False,
    poll_rejects_pollpri=False,
    poll_failed_connect_revents=int(POLL.ERR),
    poll_hangup_waits_for_drain=True,
    polling_signals_recorded_events=True,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (OBSERVED, DOCUMENTED, WINE)}


def get_profile(name: str) -> Profile:
    """Look a profile up by name; a clear error names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown profile {name!r} (known: {known})") from None
