"""Names and defaults that the scenario format and the engine share.

They are here rather than in plan.py so that loading and checking a file
(``simnotify check``) does not import the plan's classes, which only running needs.
"""

from __future__ import annotations

#: Handler keys besides the FD_ names.
PROTOCOL_INFO = "PROTOCOL_INFO"
#: A select loop's handler keys, per set a descriptor was found ready in.
SELECT_HANDLERS = {"read": "READABLE", "write": "WRITABLE", "except": "EXCEPT"}
#: Names a scenario passes for an invalid handle on purpose: never created, never resolved.
INVALID_SOCKET = "INVALID_SOCKET"
INVALID_EVENT = "WSA_INVALID_EVENT"

#: The network's defaults (contract 1.2): one-way latency, delay of a message between
#: processes, buffer sizes, and the time a process takes to handle a notification.
LATENCY_US = 100
IPC_DELAY_US = 1_000
BUFFER_BYTES = 65_536
HANDLE_TIME_US = 50
