"""Semantic profiles: one value for every decision point of docs/semantics.md section 4.

The engine reads these fields, never a profile's name, so a decision is made in
exactly one place and a third profile (an older Windows, Wine) is one more instance.
"""

from __future__ import annotations

from dataclasses import dataclass
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
)

PROFILES: dict[str, Profile] = {p.name: p for p in (OBSERVED, DOCUMENTED)}


def get_profile(name: str) -> Profile:
    """Look a profile up by name; a clear error names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown profile {name!r} (known: {known})") from None
