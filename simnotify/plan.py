"""The compiled scenario: plain, immutable data the engine runs.

Scenario loading (pydantic, TOML, line numbers) ends here; the engine starts here.
Nothing in this module imports pydantic, so hot paths never touch validation objects.

Canonical call arguments (``Call.args``), by key:

=================  =====================================================================
``socket``         descriptor name in the calling process; ``None`` = the handler's default
``as``             name for a descriptor the call creates (``None`` = call's default)
``mask``           int FD_ mask (WSAAsyncSelect, WSAEventSelect)
``window``         window name (WSAAsyncSelect, PeekMessage, DestroyWindow)
``message``        message name (WSAAsyncSelect)
``event``          event-object name, or ``None`` (NULL handle in WSAEnumNetworkEvents)
``bytes``          int >= 0, or ``-1`` for "all" (recv); int >= 0 (send)
``peek``, ``oob``, ``bad_buffer``, ``abortive``, ``refused``, ``wait_all``  bool
``how``            "send" | "receive" | "both"
``to``             ``(process, descriptor)`` of a listener (connect), or ``None``
``backlog``        int (listen)
``target``         process name (WSADuplicateSocket)
``info``           protocol-info name (WSADuplicateSocket names it, WSASocket uses it)
``option``         "SO_LINGER" | "SO_OOBINLINE" (setsockopt/getsockopt) | "SO_ERROR" (getsockopt)
``value``          int, or ``(onoff, seconds)`` for SO_LINGER
``fionbio``        0 | 1 | ``None``; ``fionread`` bool (ioctlsocket)
``handles``        tuple of event names (WSAWaitForMultipleEvents)
``read``, ``write``, ``except``  tuples of descriptor names (select)
``fds``            tuple of ``(descriptor, POLL events mask)`` (WSAPoll)
``timeout_us``     int, or ``None`` for WSA_INFINITE
``for_us``         int (sleep)
=================  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .names import BUFFER_BYTES, HANDLE_TIME_US, IPC_DELAY_US, LATENCY_US
from .units import format_time
from .winsock import mask_names, poll_request_names

if TYPE_CHECKING:  # the run draws with it; loading a scenario needs no random numbers
    import random

#: Loop kinds a process may run.
LOOPS = ("none", "messages", "events", "select")
#: The thread every process has; steps and calls run on it unless they name another.
MAIN_THREAD = "main"
#: Key of ``Expect.by_profile`` that applies under every profile.
ANY_PROFILE = "*"


@dataclass(frozen=True, slots=True)
class Expect:
    """An inline check of one call's outcome, per profile (``ANY_PROFILE`` = all)."""

    by_profile: dict[str, Any]
    line: int

    def for_profile(self, profile: str) -> tuple[bool, Any]:
        """(applies, expected value) under ``profile``."""
        if profile in self.by_profile:
            return True, self.by_profile[profile]
        if ANY_PROFILE in self.by_profile:
            return True, self.by_profile[ANY_PROFILE]
        return False, None


@dataclass(frozen=True, slots=True)
class Call:
    """One API call as written in a step or handler, with canonical arguments.

    ``shown`` is how trace records show the arguments, worked out once here rather than per
    record: a plan runs under two profiles, and a sweep runs it thousands of times.
    ``renamed`` caches ``shown`` with another socket name, for a handler's default
    descriptor or a rebound name (a pure function of the name, so safe to share by runs).
    """

    name: str
    args: dict[str, Any]
    line: int = 0
    expect: Expect | None = None
    id: str | None = None
    #: a handler call handed to another thread of the process (its name), or None
    thread: str | None = None
    #: the label of the library object that makes the call (``A/gsock1``), or None
    actor: str | None = None
    shown: dict[str, Any] = field(init=False, repr=False, compare=False)
    renamed: dict[str, dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shown", _display_args(self.args))
        object.__setattr__(self, "renamed", {})


#: Canonical argument keys shown with the spelling scenario files use.
_FILE_NAMES = {"fionbio": "FIONBIO", "fionread": "FIONREAD", "info": "protocol_info"}


def _display_args(args: dict[str, Any]) -> dict[str, Any]:
    """The arguments as a reader wants them: file spellings, names, times as text."""
    shown: dict[str, Any] = {}
    for k, v in args.items():
        if v is None or v is False:
            continue
        if k == "mask":
            shown["events"] = mask_names(v)
        elif k == "to":
            shown["to"] = f"{v[0]}.{v[1]}"
        elif k == "handles":
            shown["events"] = list(v)
        elif k == "timeout_us":
            shown["timeout"] = format_time(v)
        elif k == "for_us":
            shown["for"] = format_time(v)
        elif k in ("read", "write", "except"):
            if v:
                shown[k] = list(v)
        elif k == "fds":
            shown["fds"] = [{"socket": name, "events": poll_request_names(ev)} for name, ev in v]
        elif isinstance(v, tuple):
            shown[_FILE_NAMES.get(k, k)] = list(v)
        else:
            shown[_FILE_NAMES.get(k, k)] = v
    return shown


@dataclass(frozen=True, slots=True)
class Jitter:
    """Random extra delay: uniform in [low, high] or exponential with mean ``high``."""

    kind: str  # "uniform" | "exp"
    low_us: int
    high_us: int

    def draw(self, rng: random.Random) -> int:
        """One delay in whole microseconds, from the run's own generator."""
        if self.kind == "exp":
            return self.low_us + round(rng.expovariate(1.0 / self.high_us)) if self.high_us else 0
        return rng.randint(self.low_us, self.high_us)


@dataclass(frozen=True, slots=True)
class Step:
    """A call made by ``process`` at absolute time ``at_us`` (file order breaks ties)."""

    at_us: int
    process: str
    call: Call
    jitter: Jitter | None = None
    thread: str = MAIN_THREAD


def label(process: str, thread: str, threaded: bool) -> str:
    """Who acts, as traces and verdicts name it: ``A`` for a process with one thread,
    ``A/io`` for a thread of a process that has several."""
    return f"{process}/{thread}" if threaded else process


@dataclass(frozen=True, slots=True)
class ThreadPlan:
    """A thread of a process besides its main one: its own loop and handler lists.
    ``actor`` names the library object its loop acts as (None: the thread itself)."""

    name: str
    loop: str = "none"
    handle_time_us: int | None = None
    handlers: dict[str, tuple[Call, ...]] = field(default_factory=dict)
    actor: str | None = None
    line: int = 0
    #: a select loop's sets, as ``ProcessPlan.select_sets``
    select_sets: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())


@dataclass(frozen=True, slots=True)
class ProcessPlan:
    """A simulated process: its loop and its handler lists (keyed by FD_ name)."""

    name: str
    loop: str = "none"
    handle_time_us: int | None = None  # None: the network's handle_time
    handlers: dict[str, tuple[Call, ...]] = field(default_factory=dict)
    line: int = 0
    #: a select loop's sets: descriptor names, each also covering the descriptors
    #: numbered from it (``conn`` covers conn1, conn2 made by accept in handlers)
    select_sets: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())
    #: the process's other threads; with any, its main thread is ``A/main``
    threads: tuple[ThreadPlan, ...] = ()
    #: the library object the main thread's loop acts as (None: the thread itself)
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkPlan:
    """Timing and buffer parameters shared by every connection."""

    latency_us: int = LATENCY_US
    ipc_delay_us: int = IPC_DELAY_US
    recv_buffer: int = BUFFER_BYTES
    send_buffer: int = BUFFER_BYTES
    handle_time_us: int = HANDLE_TIME_US
    jitter: Jitter | None = None  # added to every one-way latency, drawn per segment


@dataclass(frozen=True, slots=True)
class ConnectionPlan:
    """A TCP pair connected at time 0: (process, descriptor) on each side."""

    client: tuple[str, str]
    server: tuple[str, str]
    line: int = 0


@dataclass(frozen=True, slots=True)
class OutcomeExpect:
    """An ``[[expect]]`` table: a claim about verdicts or totals after the run."""

    kind: str  # lost | delivered | none | stale | spurious | hang | received
    value: Any
    process: str | None = None  # a process, or a thread or actor label (``A/io``)
    socket: tuple[str, str] | None = None
    profile: str | None = None
    count: int | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep a hostile scenario from exhausting the machine."""

    max_happenings: int = 5_000_000


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the engine needs to run a scenario."""

    name: str
    until_us: int
    processes: tuple[ProcessPlan, ...]
    steps: tuple[Step, ...] = ()
    connections: tuple[ConnectionPlan, ...] = ()
    network: NetworkPlan = field(default_factory=NetworkPlan)
    expects: tuple[OutcomeExpect, ...] = ()
    title: str = ""
    description: str = ""
    profile: str = "observed"
    seed: int = 0
    source: str = "<scenario>"
    limits: Limits = field(default_factory=Limits)
