"""From a simnotify run to a cross-check script and the steps it compares.

The script replays, in ``seq`` order, every call record of the run (steps, handler calls,
and the events loop's own WSAWaitForMultipleEvents and WSAEnumNetworkEvents) and every
message a GetMessage loop took (one PeekMessage of a single message), each on the
interpreter of its process. Calls that blocked in simnotify are started where they
blocked and their reply is collected where they returned. The threads of a process run on
its one interpreter, in trace order: a call that blocked in a thread is replayed where it
returned (a started call would hold up the process's other threads), so what is compared
is its result there, not the wait. Before an observation that follows an action the
script sleeps, so Wine's server has seen the host socket change.

Script lines are ``PROC ID COMMAND key=value ...``; ``>VAR=FIELD`` keeps a field of the
reply and ``$VAR`` uses it (ports, process ids, protocol infos), so the same script runs
on any machine. Directives start with ``@`` (``@process``, ``@sleep``, ``@end``), which no
scenario name can. The interpreter's reply grammar is in ``interp.c``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..trace import Reason, TraceRecord
from ..winsock import EVENT_NAMES, POLL_REQUESTS
from . import SETTLE_MS

if TYPE_CHECKING:
    from ..plan import Plan

SCRIPT_MAGIC = "simnotify-crosscheck-script 1"
#: Milliseconds a call still blocked at the end of the run is given to finish on Wine.
STILL_BLOCKED_MS = 300

#: Calls that can block a process until another one acts.
BLOCKING = frozenset({"recv", "send", "connect", "accept"})
#: Calls that change nothing a later observation could see: no settling around them.
LOCAL = frozenset(
    {
        "socket",
        "WSACreateEvent",
        "WSASetEvent",
        "WSAResetEvent",
        "WSACloseEvent",
        "getsockopt",
        "setsockopt",
        "DestroyWindow",
        "WSADuplicateSocket",
        "WSASocket",
    }
)
#: Calls (and takes) that only look: they leave nothing for the server to notice.
LOOKING = frozenset(
    {"WSAEnumNetworkEvents", "WSAWaitForMultipleEvents", "PeekMessage", "take", "select", "WSAPoll"}
)
#: select's sets, as the interpreter names them.
SELECT_SETS = ("read", "write", "except")


@dataclass(frozen=True, slots=True)
class Outcome:
    """A normalised call outcome: ``status`` is ``ok``, an error name, ``blocked`` or a
    transport word (TIMEOUT, SKIPPED, BAD); ``value`` depends on the step's ``kind``."""

    status: str
    value: Any = None

    def text(self) -> str:
        """How reports show it: the value when it succeeded, else the status."""
        if self.status != "ok":
            return self.status
        if isinstance(self.value, frozenset):
            return "[" + ", ".join(sorted(self.value)) + "]"
        if isinstance(self.value, tuple):
            return "[" + ", ".join(self.value) + "]"
        return "ok" if self.value is None else str(self.value)


@dataclass(frozen=True, slots=True)
class Step:
    """One compared step: what simnotify did and got, and how Wine's answer compares.

    ``kind`` says how results compare: ``status`` (success or the error), ``count``
    (bytes, exact), ``some`` (bytes that depend on buffers: zero or not), ``unsized``
    (send: success or error only), ``set`` (enumerations), ``list`` (PeekMessage),
    ``take`` (one message), ``wait`` (an index), ``signalled`` (the events loop's wait),
    ``value`` (getsockopt).
    """

    id: str
    process: str
    call: str
    kind: str
    expected: Outcome
    label: str
    t_us: int
    seq: int
    key: tuple[Any, ...]
    tag: str | None = None
    socket: str | None = None
    sockets: tuple[str, ...] = ()  # the sockets registered to the window or events looked at


@dataclass(frozen=True, slots=True)
class Run:
    """What a script is built from: a run's trace, and what each process was still
    blocked in at the end (``None`` when it was not)."""

    profile: str
    trace: Sequence[TraceRecord]
    #: what each process (each thread: ``A/io``) still waits in: its block record
    ends: dict[str, TraceRecord | None]


@dataclass(slots=True)
class Script:
    """The script text's lines and the steps whose replies are compared."""

    name: str
    profile: str
    lines: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    def text(self) -> str:
        """The script as the interpreter's coordinator reads it."""
        return "\n".join(self.lines) + "\n"

    def command_lines(self) -> list[str]:
        """Lines the coordinator echoes in the transcript (not directives)."""
        return [ln for ln in self.lines if ln and not _directive(ln)]


def _directive(line: str) -> bool:
    return line.startswith(("#", "@", SCRIPT_MAGIC))


def _mask(names: Any) -> str:
    bits = 0
    for name in names or ():
        bits |= EVENT_NAMES.get(str(name), 0)
    return hex(bits)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _error_of(text: str | None) -> str:
    return text or "ok"


def _desc_name(rec: TraceRecord, args: dict[str, Any]) -> str:
    """The descriptor's name in its process: from the record's label, else as written."""
    if rec.descriptor:
        return rec.descriptor.split(".", 1)[1]
    name = args.get("socket")
    return str(name) if name else "~none"


def _entry(event: str, error: str | None, wparam: str) -> str:
    return f"{event}:{error}@{wparam}" if error else f"{event}@{wparam}"


def _label(rec: TraceRecord) -> str:
    args = rec.args or {}
    parts = []
    for k, v in args.items():
        if k == "socket":
            continue
        if k == "bytes" and v == -1:
            v = "all"
        if isinstance(v, list):
            v = "|".join(str(x) for x in v) or "0"
        parts.append(f"{k}={v}")
    sock = args.get("socket")
    inner = ", ".join(([str(sock)] if sock else []) + parts)
    return f"{rec.process}: {rec.call}({inner})"


class Builder:
    """Turns one run's trace into a Script (one pass, in seq order)."""

    def __init__(self, plan: Plan, run: Run, settle_ms: int = SETTLE_MS) -> None:
        self.plan = plan
        self.run = run
        self.settle_ms = settle_ms
        self.script = Script(plan.name, run.profile)
        self.dirty = False
        self.seen_sockets: set[str] = set()
        self.listeners: set[str] = set()  # labels with a port variable
        self.infos: list[tuple[str, str, str | None, str]] = []  # (target, name, sock, var)
        self.used_infos: set[str] = set()
        self.starts: dict[int, TraceRecord] = {}  # block seq -> the call it starts
        self.started: set[int] = set()  # call seqs already started
        self._pending: dict[int, tuple[str, str, Outcome, Any]] = {}  # started, not finished
        self.count = 0
        self.unfinished: dict[str, TraceRecord] = {}  # still blocked in a socket call
        #: processes with several threads: their blocking calls are not started
        self.threaded = frozenset(p.name for p in plan.processes if p.threads)
        self.targets: dict[str, list[str]] = {}  # "MSG P.w" / "EVT P.e" -> sockets registered

    # -- lines -----------------------------------------------------------------------

    def _line(self, proc: str, ident: str, command: str) -> None:
        self.script.lines.append(f"{proc} {ident} {command}")

    def _settle(self, call: str) -> None:
        """Sleep before anything but a local call once an action has happened."""
        if self.dirty and call not in LOCAL:
            self.script.lines.append(f"@sleep {self.settle_ms}")
            self.dirty = False

    def _acted(self, call: str) -> None:
        if call not in LOCAL and call not in LOOKING:
            self.dirty = True

    def _looked_at(self, rec: TraceRecord, call: str) -> tuple[str, ...]:
        """Sockets whose notifications a PeekMessage or a wait looks at."""
        args = rec.args or {}
        if call == "PeekMessage":
            names = [f"MSG {rec.process}.{args.get('window', 'main')}"]
        elif call == "WSAWaitForMultipleEvents":
            names = [f"EVT {rec.process}.{e}" for e in _names(args.get("events"))]
        else:
            return ()
        return tuple(dict.fromkeys(s for n in names for s in self.targets.get(n, ())))

    def _register(self, rec: TraceRecord) -> None:
        target = (rec.data or {}).get("target")
        if isinstance(target, str) and rec.socket:
            key = target.split("/", 1)[0]
            socks = self.targets.setdefault(key, [])
            if rec.socket not in socks:
                socks.append(rec.socket)

    def _next_id(self) -> str:
        """Line ids count the replayed steps: the same commands give the same script under
        any profile, so a transcript recorded once answers each of them."""
        self.count += 1
        return str(self.count)

    def _step(
        self, ident: str, rec: TraceRecord, call: str, kind: str, expected: Outcome, key: Any
    ) -> None:
        tag = rec.data.get("id") if rec.data else None
        label = _label(rec) if call != "take" else f"{rec.process}: GetMessage loop takes"
        self.script.steps.append(
            Step(
                ident,
                str(rec.process),
                call,
                kind,
                expected,
                label,
                rec.t_us,
                rec.seq,
                (rec.process, call, *key),
                tag if isinstance(tag, str) else None,
                rec.socket,
                self._looked_at(rec, call),
            )
        )

    # -- building --------------------------------------------------------------------

    def build(self) -> Script:
        """The whole script: processes, connections, every replayed record, final checks."""
        lines = self.script.lines
        lines.append(SCRIPT_MAGIC)
        lines.append(f"# scenario {self.plan.name} ({self.plan.source}) under {self.run.profile}")
        for proc in self.plan.processes:
            lines.append(f"@process {proc.name}")
        for proc in self.plan.processes:  # every child up and answering before anything
            self._line(proc.name, "hello", "version")
        first = self.plan.processes[0].name
        self._line(first, "refused", "refusedport >refused=port")
        self._connections()
        trace = [r for r in self.run.trace if str(r.kind) in _REPLAYED]
        self._find_blocked(trace)
        for rec in trace:
            kind = str(rec.kind)
            new = bool(rec.socket) and rec.socket not in self.seen_sockets
            if kind == "block":
                target = self.starts.get(rec.seq)
                if target is not None:
                    self._call(target, start=True)
            elif kind == "call":
                self._call(rec, new_socket=new)
            elif kind == "register":
                self._register(rec)
            elif kind == "deliver":
                data = rec.data or {}
                if rec.reason is Reason.MESSAGE and data.get("call") is None:
                    self._take(rec)
            if rec.socket:
                self.seen_sockets.add(rec.socket)
        self._still_blocked(trace)
        lines.append("@end")
        return self.script

    def _connections(self) -> None:
        """``[[connection]]`` pairs: a real listen, connect and accept before anything."""
        for i, conn in enumerate(self.plan.connections, 1):
            (cp, cd), (sp, sd) = conn.client, conn.server
            lsn = f"~pair{i}"
            self._line(sp, f"pair{i}.listen", f"listen name={lsn} create=1 >pair{i}=port")
            self._line(cp, f"pair{i}.connect", f"connect name={cd} port=$pair{i} create=1")
            self._line(sp, f"pair{i}.accept", f"accept name={lsn} as={sd}")
            self._line(sp, f"pair{i}.close", f"close name={lsn}")
        if self.plan.connections:
            self.dirty = True

    def _find_blocked(self, trace: Sequence[TraceRecord]) -> None:
        """Which call each block record of a socket call belongs to."""
        pending: dict[str, TraceRecord] = {}
        for rec in trace:
            kind = str(rec.kind)
            proc = str(rec.actor or rec.process)  # a process, or a thread or object of one
            if kind == "block":
                if rec.reason is Reason.IN_CALL and rec.call in BLOCKING:
                    pending[proc] = rec
                else:
                    pending.pop(proc, None)
            elif kind == "call":
                blk = pending.pop(proc, None)
                if blk is not None and blk.call == rec.call and rec.process not in self.threaded:
                    self.starts[blk.seq] = rec
        self.unfinished = pending  # still blocked in a socket call at the end

    def _call(self, rec: TraceRecord, start: bool = False, new_socket: bool = False) -> None:
        call = str(rec.call)
        if not start and rec.seq in self.started:
            ident, kind, expected, key = self._pending.pop(rec.seq)
            self._line(str(rec.process), ident, "finish")
            self._step(ident, rec, call, kind, expected, key)
            self._acted(call)
            return
        ident = self._next_id()
        made = self._command(rec, new_socket or (start and self._creates(rec)), ident)
        if made is None:
            return
        command, kind, expected, key = made
        # SO_ERROR reads what the network did, so it waits for the server like a look
        self._settle("select" if (rec.args or {}).get("option") == "SO_ERROR" else call)
        if start:
            self.started.add(rec.seq)
            self._line(str(rec.process), ident, f"start {command}")
            self._pending[rec.seq] = (ident, kind, expected, key)
            self.dirty = True
            return
        self._line(str(rec.process), ident, command)
        self._step(ident, rec, call, kind, expected, key)
        self._acted(call)

    def _creates(self, rec: TraceRecord) -> bool:
        return bool(rec.socket) and rec.socket not in self.seen_sockets

    def _take(self, rec: TraceRecord) -> None:
        window = str((rec.data or {}).get("window", "?"))
        error = rec.error
        wparam = rec.descriptor.split(".", 1)[1] if rec.descriptor else "?"
        self._settle("take")
        ident = self._next_id()
        self._line(str(rec.process), ident, "take")
        entry = f"{window}:{_entry(str(rec.event), error, wparam)}"
        self._step(ident, rec, "take", "take", Outcome("ok", entry), ())

    def _still_blocked(self, trace: Sequence[TraceRecord]) -> None:
        """At the end: loops still waiting must find nothing on Wine either, and socket
        calls still blocked must still be blocked."""
        last_t = trace[-1].t_us if trace else 0
        unfinished = {b.seq for b in self.unfinished.values()}
        # a process's threads share one interpreter: a call still blocked goes last
        ends = sorted(
            self.run.ends.items(), key=lambda e: e[1] is not None and e[1].seq in unfinished
        )
        for label, block in ends:
            if block is None:
                continue
            name = str(block.process or label)  # the interpreter: the thread's process
            ident = f"end.{label}"
            if block.reason is Reason.GET_MESSAGE:
                self._settle("take")
                self._line(name, ident, "take")
                self._final(name, ident, "take", "take", Outcome("ok", "-"), last_t)
            elif block.call == "WSAWaitForMultipleEvents":
                events = ",".join((block.data or {}).get("handles", ()))
                self._settle("WSAWaitForMultipleEvents")
                self._line(name, ident, f"wait events={events}")
                self._final(
                    name,
                    ident,
                    "WSAWaitForMultipleEvents",
                    "wait",
                    Outcome("ok", "WSA_WAIT_TIMEOUT"),
                    last_t,
                )
            elif block.call in ("recv", "accept") and block.seq in unfinished:
                self._unfinished(name, ident, block, last_t)

    def _unfinished(self, proc: str, ident: str, block: TraceRecord, t_us: int) -> None:
        call = str(block.call)
        desc = (block.descriptor or "").split(".", 1)[-1]
        if call == "recv":
            oob = " oob=1" if (block.data or {}).get("oob") else ""
            command = f"recv name={desc} bytes=65536{oob}"
        else:
            command = f"accept name={desc} as=~blocked"
        self._settle(call)
        self._line(proc, ident, f"start {command}")
        self._line(proc, ident, f"finish {STILL_BLOCKED_MS}")
        self._final(proc, ident, call, "status", Outcome("blocked"), t_us)

    def _final(
        self, proc: str, ident: str, call: str, kind: str, expected: Outcome, t_us: int
    ) -> None:
        label = {
            "take": f"{proc}: still in GetMessage at the end (queue empty)",
            "wait": f"{proc}: still waiting at the end (no event signalled)",
        }.get(kind, f"{proc}: {call} still blocked at the end")
        self.script.steps.append(
            Step(ident, proc, call, kind, expected, label, t_us, -1, (proc, "end", call))
        )

    # -- one call ----------------------------------------------------------------------

    def _command(
        self, rec: TraceRecord, new_socket: bool, ident: str
    ) -> tuple[str, str, Outcome, Any] | None:
        """The interpreter command for a call record, how its reply compares, and what
        simnotify got."""
        call = str(rec.call)
        args: dict[str, Any] = dict(rec.args or {})
        name = _desc_name(rec, args)
        status = _error_of(rec.error)
        plain = Outcome(status, None)
        key: tuple[Any, ...] = (tuple(sorted((k, str(v)) for k, v in args.items())),)
        create = " create=1" if new_socket else ""
        value: Any  # what simnotify got, in the step kind's shape
        var: str | None
        if call == "socket":
            return f"socket name={rec.result or args.get('as')}", "status", plain, key
        if call == "listen":
            var = f"port.{rec.descriptor}" if rec.descriptor else "port.~none"
            if rec.descriptor and status == "ok":
                self.listeners.add(rec.descriptor)
            backlog = args.get("backlog", 5)
            cmd = f"listen name={name} backlog={backlog}{create} >{var}=port"
            return cmd, "status", plain, key
        if call == "connect":
            to = args.get("to")
            port = (
                f"$port.{to}"
                if to and to in self.listeners and not args.get("refused")
                else "$refused"
            )
            return f"connect name={name} port={port}{create}", "status", plain, key
        if call == "accept":
            new = rec.result if status == "ok" else "~failed"
            defer = " defer=1" if args.get("defer") else ""
            return f"accept name={name} as={new}{defer}", "status", plain, key
        if call == "send":
            n = int(args.get("bytes", 0))
            oob = " oob=1" if args.get("oob") else ""
            fill = " fill=1" if status == "WSAEWOULDBLOCK" and not args.get("oob") else ""
            return f"send name={name} bytes={n}{oob}{fill}", "unsized", plain, key
        if call == "recv":
            n = int(args.get("bytes", -1))
            flags = "".join(
                f" {flag}=1"
                for arg, flag in (("peek", "peek"), ("oob", "oob"), ("bad_buffer", "bad"))
                if args.get(arg)
            )
            size = "all" if n < 0 else str(n)
            kind = "some" if n < 0 else "count"
            value = int(rec.result) if status == "ok" else None
            return f"recv name={name} bytes={size}{flags}", kind, Outcome(status, value), key
        if call == "shutdown":
            return f"shutdown name={name} how={args.get('how', 'send')}", "status", plain, key
        if call == "closesocket":
            abortive = " abortive=1" if args.get("abortive") else ""
            return f"close name={name}{abortive}", "status", plain, key
        if call == "WSAAsyncSelect":
            window = args.get("window", "main")
            message = args.get("message", "WM_SOCKET")
            mask = _mask(args.get("events"))
            cmd = f"asyncselect name={name} window={window} msg={message} mask={mask}"
            return cmd, "status", plain, key
        if call == "WSAEventSelect":
            event = args.get("event") or "-"
            return (
                f"eventselect name={name} event={event} mask={_mask(args.get('events'))}",
                "status",
                plain,
                key,
            )
        if call == "WSAEnumNetworkEvents":
            event = args.get("event") or "-"
            value = frozenset(rec.result or ()) if status == "ok" else None
            return f"enum name={name} event={event}", "set", Outcome(status, value), key
        if call in ("WSACreateEvent", "WSASetEvent", "WSAResetEvent", "WSACloseEvent"):
            command = call[3:].lower()
            return f"{command} event={args.get('event')}", "status", plain, key
        if call == "WSAWaitForMultipleEvents":
            handles = args.get("events")
            loop = isinstance(rec.result, int) and rec.result >= len(_names(handles))
            if isinstance(handles, str) or loop:  # the events loop's own wait: that event
                return f"wait events={handles}", "signalled", Outcome(status, "signalled"), key
            wait_all = " all=1" if args.get("wait_all") else ""
            names = ",".join(_names(handles))
            value = rec.result if status == "ok" else None
            return f"wait events={names}{wait_all}", "wait", Outcome(status, value), key
        if call == "PeekMessage":
            window = args.get("window", "main")
            wparams = (rec.data or {}).get("wparam", [])
            entries = tuple(f"{r}@{w}" for r, w in zip(rec.result or [], wparams, strict=False))
            value = entries if status == "ok" else None
            return f"peek window={window}", "list", Outcome(status, value), key
        if call == "DestroyWindow":
            return f"destroy window={args.get('window')}", "status", plain, key
        if call == "WSADuplicateSocket":
            target = args.get("target")
            known = any(p.name == target for p in self.plan.processes)
            pid = f"$pid.{target}" if known else "0"
            var = f"info.{ident}"
            if status == "ok":
                info_name = str(args.get("protocol_info") or args.get("as") or args.get("socket"))
                self.infos.append((str(target), info_name, rec.socket, var))
            return f"dup name={name} pid={pid} >{var}=info", "status", plain, key
        if call == "WSASocket":
            var = self._info_for(rec, args)
            new = rec.result if status == "ok" else "~failed"
            info = f"${var}" if var else "-"
            return f"import as={new} info={info}", "status", plain, key
        if call == "setsockopt":
            option = args.get("option")
            value = args.get("value")
            if option == "SO_LINGER":
                onoff, secs = value if isinstance(value, list | tuple) else (0, 0)
                return (
                    f"setopt name={name} opt=linger value={int(onoff)},{int(secs)}",
                    "status",
                    plain,
                    key,
                )
            return (
                f"setopt name={name} opt=oobinline value={int(bool(value))}",
                "status",
                plain,
                key,
            )
        if call == "select":
            sets = " ".join(f"{k}={','.join(args[k])}" for k in SELECT_SETS if args.get(k))
            found = rec.data or {}
            value = frozenset(f"{k}:{n}" for k in SELECT_SETS for n in found.get(k, ()))
            return f"select {sets}".rstrip(), "set", Outcome(status, value), key
        if call == "WSAPoll":
            fds = ",".join(
                f"{fd['socket']}:{sum(POLL_REQUESTS[e] for e in fd['events']):#x}"
                for fd in args.get("fds", ())
            )
            revents = (rec.data or {}).get("revents", {})
            value = frozenset(f"{n}:{r}" for n, rs in revents.items() for r in rs)
            return f"poll fds={fds}", "set", Outcome(status, value), key
        if call == "getsockopt":
            option = args.get("option")
            res = rec.result
            shown = ",".join(str(int(v)) for v in res) if isinstance(res, list) else str(res)
            opt = {"SO_LINGER": "linger", "SO_ERROR": "error"}.get(str(option), "oobinline")
            value = shown if status == "ok" else None
            return f"getopt name={name} opt={opt}", "value", Outcome(status, value), key
        if call == "ioctlsocket":
            if args.get("FIONREAD"):
                value = int(rec.result) if status == "ok" else None
                return f"fionread name={name}", "some", Outcome(status, value), key
            return f"fionbio name={name} value={int(args.get('FIONBIO', 0))}", "status", plain, key
        if call == "exit":
            return "exit", "status", plain, key
        if call == "ExitThread":  # the interpreter's one thread stays: its windows go
            for i, window in enumerate((rec.data or {}).get("windows", ())):
                self._line(str(rec.process), f"{ident}.{i}", f"destroy window={window}")
        return None

    def _info_for(self, rec: TraceRecord, args: dict[str, Any]) -> str | None:
        """The protocol info a WSASocket used: the one for this process and socket when it
        worked, else the latest of that name (a second use), else none."""
        proc = str(rec.process)
        wanted = args.get("protocol_info")
        if rec.error is None:
            for target, _name, sock, var in self.infos:
                if target == proc and sock == rec.socket and var not in self.used_infos:
                    self.used_infos.add(var)
                    return var
        for target, name, _sock, var in reversed(self.infos):
            if target == proc and (wanted is None or name == wanted):
                return var
        return None


_REPLAYED = frozenset({"call", "deliver", "block", "register"})


def build_script(plan: Plan, run: Run, settle_ms: int = SETTLE_MS) -> Script:
    """The cross-check script of one run."""
    return Builder(plan, run, settle_ms).build()
