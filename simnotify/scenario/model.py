"""Pydantic models of the scenario file format (contract section 1), one per table.

Field names are the file's keys, so Python users build scenarios with the same names:
``Scenario.model_validate({...})``. Unknown keys are errors because they are usually typos.

Annotations here are objects, not postponed strings (no ``from __future__ import
annotations``): pydantic reads them as they are instead of evaluating each one again when
it makes a class, a fifth of what importing these models costs.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PrivateAttr,
    StrictBool,
    StrictInt,
    Tag,
    TypeAdapter,
    create_model,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticKnownError, core_schema

from ..names import BUFFER_BYTES, HANDLE_TIME_US, IPC_DELAY_US, LATENCY_US
from ..units import parse_time
from .errors import Path
from .fields import (
    POLL_RESULTS,
    SELECT_SETS,
    SET_MAX,
    WAIT_MAX,
    ActorName,
    BufferSize,
    ByteCount,
    CallId,
    Count,
    DescName,
    Endpoint,
    EventList,
    EventObjectName,
    Expectation,
    FindingName,
    HandlerKey,
    InfoName,
    JitterSpec,
    MessageName,
    OptionValue,
    PollEvent,
    ProcessName,
    ProfileName,
    RaisedEvent,
    RecvBytes,
    ScenarioName,
    Seed,
    StepTime,
    Text,
    ThreadName,
    Time,
    Timeout,
    Title,
    WindowName,
    fail,
    per_profile,
)
from .locate import LineMap


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


# --- calls -------------------------------------------------------------------------------

#: A select set: up to 64 descriptor names (FD_SETSIZE).
DescSet = Annotated[list[DescName], Field(max_length=SET_MAX)]


def _tables(expect: Any) -> list[dict[str, list[str]]]:
    """The readiness tables in an inline expectation (its own, or per profile)."""
    if not isinstance(expect, dict):
        return []
    if per_profile(expect):
        return [v for v in expect.values() if isinstance(v, dict)]
    return [expect]


class CallModel(_Model):
    """What every call may carry: an inline check, a label, the thread that makes it
    (default ``main``; in a handler, another thread is handed the call) and the library
    object that acts (default: the thread)."""

    #: whether its result can be a readiness table (select, WSAPoll)
    TABLES: ClassVar[bool] = False

    expect: Expectation | None = None
    id: CallId | None = None
    thread: ThreadName | None = None
    actor: ActorName | None = None

    @model_validator(mode="after")
    def _table_fits_call(self) -> "CallModel":
        if self.expect is not None and not self.TABLES and _tables(self.expect):
            fail("expect", "only select and WSAPoll results are tables")
        return self


class _SocketCall(CallModel):
    """A call on a descriptor; in handlers it defaults to the notification's descriptor."""

    socket: DescName | None = None


class SocketCall(CallModel):
    call: Literal["socket"]
    as_: DescName = Field(alias="as")


class Listen(_SocketCall):
    call: Literal["listen"]
    backlog: Annotated[StrictInt, Field(ge=0, le=2**31 - 1)] = 5


class Connect(_SocketCall):
    """A connect names its listener, or says it will be refused: nothing else can happen."""

    call: Literal["connect"]
    to: Endpoint | None = None
    refused: StrictBool = False

    @model_validator(mode="after")
    def _one_outcome(self) -> "Connect":
        if (self.to is not None) == self.refused:
            fail("connect", "connect needs exactly one of 'to = \"PROC.DESC\"' or 'refused = true'")
        return self


class Accept(_SocketCall):
    call: Literal["accept"]
    as_: DescName = Field("conn", alias="as")
    defer: StrictBool = False  # WSAAccept whose condition function returns CF_DEFER


class Send(_SocketCall):
    call: Literal["send"]
    bytes: ByteCount
    oob: StrictBool = False


class Recv(_SocketCall):
    call: Literal["recv"]
    bytes: RecvBytes
    peek: StrictBool = False
    oob: StrictBool = False
    bad_buffer: StrictBool = False


class Shutdown(_SocketCall):
    call: Literal["shutdown"]
    how: Literal["send", "receive", "both"]


class CloseSocket(_SocketCall):
    call: Literal["closesocket"]
    abortive: StrictBool = False


class AsyncSelect(_SocketCall):
    call: Literal["WSAAsyncSelect"]
    window: WindowName = "main"
    message: MessageName = "WM_SOCKET"
    events: EventList


class EventSelect(_SocketCall):
    """``events = []`` cancels, so only then may the event object be left out."""

    call: Literal["WSAEventSelect"]
    event: EventObjectName | None = None
    events: EventList

    @model_validator(mode="after")
    def _event_named(self) -> "EventSelect":
        if self.events and self.event is None:
            fail("event", "WSAEventSelect needs 'event' unless events = [] (cancel)")
        return self


class EnumNetworkEvents(_SocketCall):
    call: Literal["WSAEnumNetworkEvents"]
    event: EventObjectName | None = None


class _EventCall(CallModel):
    event: EventObjectName


class CreateEvent(_EventCall):
    call: Literal["WSACreateEvent"]


class SetEvent(_EventCall):
    call: Literal["WSASetEvent"]


class ResetEvent(_EventCall):
    call: Literal["WSAResetEvent"]


class CloseEvent(_EventCall):
    call: Literal["WSACloseEvent"]


class WaitForMultipleEvents(CallModel):
    call: Literal["WSAWaitForMultipleEvents"]
    events: Annotated[list[EventObjectName], Field(min_length=1, max_length=WAIT_MAX)]
    wait_all: StrictBool = False
    timeout: Timeout = "infinite"


class PeekMessage(CallModel):
    call: Literal["PeekMessage"]
    window: WindowName = "main"


class DestroyWindow(CallModel):
    call: Literal["DestroyWindow"]
    window: WindowName


class DuplicateSocket(_SocketCall):
    call: Literal["WSADuplicateSocket"]
    target: ProcessName
    as_: DescName | None = Field(None, alias="as")
    info: InfoName | None = None


class WSASocket(CallModel):
    """In an ``on.PROTOCOL_INFO`` handler the info defaults to the one that just arrived."""

    call: Literal["WSASocket"]
    protocol_info: InfoName | None = None
    as_: DescName | None = Field(None, alias="as")


class SetSockOpt(_SocketCall):
    """The value's shape depends on the option: SO_LINGER is a pair, SO_OOBINLINE a flag."""

    call: Literal["setsockopt"]
    option: Literal["SO_LINGER", "SO_OOBINLINE"]
    value: OptionValue

    @model_validator(mode="after")
    def _value_fits_option(self) -> "SetSockOpt":
        if self.option == "SO_LINGER" and not isinstance(self.value, list):
            fail("value", "SO_LINGER takes value = [onoff, seconds]")
        if self.option == "SO_OOBINLINE" and self.value not in (0, 1):
            fail("value", "SO_OOBINLINE takes value = 0 or 1")
        return self


class GetSockOpt(_SocketCall):
    """SO_ERROR returns the pending error (a refused connect's) and clears it."""

    call: Literal["getsockopt"]
    option: Literal["SO_LINGER", "SO_OOBINLINE", "SO_ERROR"]


class Select(CallModel):
    """select(): readiness of up to 64 descriptors per set; omitted timeout waits for ever.
    Its result is the number of ready descriptors; ``expect`` may give the sets instead."""

    TABLES = True

    call: Literal["select"]
    read: DescSet = Field(default_factory=list)
    write: DescSet = Field(default_factory=list)
    except_: DescSet = Field(default_factory=list, alias="except")
    timeout: Timeout = "infinite"

    @model_validator(mode="after")
    def _table_names_sets(self) -> "Select":
        for table in _tables(self.expect):
            wrong = [k for k in table if k not in SELECT_SETS]
            if wrong:
                fail("expect", f"a select result table has read, write, except: not {wrong[0]!r}")
        return self


class PollFd(_Model):
    """One WSAPOLLFD: a descriptor and the events asked for."""

    socket: DescName
    events: Annotated[list[PollEvent], Field(max_length=8)] = Field(default_factory=list)


class WSAPoll(CallModel):
    """WSAPoll(): revents per descriptor; the result is how many have any."""

    TABLES = True

    call: Literal["WSAPoll"]
    fds: Annotated[list[PollFd], Field(max_length=SET_MAX)]
    timeout: Timeout = "infinite"

    @model_validator(mode="after")
    def _table_names_revents(self) -> "WSAPoll":
        for table in _tables(self.expect):
            for name, revents in table.items():
                wrong = [r for r in revents if r not in POLL_RESULTS]
                if wrong:
                    known = ", ".join(POLL_RESULTS)
                    fail("expect", f"revents of {name!r}: {wrong[0]!r} is not one of {known}")
        return self


class IoctlSocket(_SocketCall):
    """One ioctlsocket call issues one command: FIONBIO or FIONREAD."""

    call: Literal["ioctlsocket"]
    FIONBIO: Annotated[StrictInt, Field(ge=0, le=1)] | None = None
    FIONREAD: StrictBool = False

    @model_validator(mode="after")
    def _one_command(self) -> "IoctlSocket":
        if (self.FIONBIO is not None) == self.FIONREAD:
            fail("ioctl", "ioctlsocket needs exactly one of 'FIONBIO = 0/1' or 'FIONREAD = true'")
        return self


class Exit(CallModel):
    call: Literal["exit"]


class ExitThread(CallModel):
    """Ends the calling thread: its windows go, its registrations stay (W34)."""

    call: Literal["ExitThread"]


class Sleep(CallModel):
    """Handler-only: the process is busy for ``for``."""

    call: Literal["sleep"]
    for_: Time = Field(alias="for")


def call_name(model: type[CallModel]) -> str:
    """The ``call`` value a model stands for."""
    return str(get_args(model.model_fields["call"].annotation)[0])


#: Handler call models by call name (every call, ``socket`` optional).
HANDLER_MODELS: dict[str, type[CallModel]] = {
    call_name(m): m
    for m in (
        SocketCall,
        Listen,
        Connect,
        Accept,
        Send,
        Recv,
        Shutdown,
        CloseSocket,
        AsyncSelect,
        EventSelect,
        EnumNetworkEvents,
        CreateEvent,
        SetEvent,
        ResetEvent,
        CloseEvent,
        WaitForMultipleEvents,
        PeekMessage,
        DestroyWindow,
        DuplicateSocket,
        WSASocket,
        SetSockOpt,
        GetSockOpt,
        IoctlSocket,
        Select,
        WSAPoll,
        Exit,
        ExitThread,
        Sleep,
    )
}


def _step_model(model: type[CallModel]) -> type[CallModel]:
    """The step form of a call: adds ``at`` and ``process``; a step must name its socket."""
    fields: dict[str, Any] = {
        "at": (StepTime, ...),
        "process": (ProcessName, ...),
        "jitter": (JitterSpec | None, None),
    }
    if "socket" in model.model_fields:
        fields["socket"] = (DescName, ...)
    if model is WSASocket:
        fields["protocol_info"] = (InfoName, ...)
    return create_model(f"Step{model.__name__}", __base__=model, __module__=__name__, **fields)


class _StepModels(Mapping[str, type[CallModel]]):
    """Step call models by call name, each made the first time it is asked for: making a
    model class costs about a millisecond, and a file uses few of the 27."""

    def __init__(self) -> None:
        self._made: dict[str, type[CallModel]] = {}

    def __getitem__(self, name: str) -> type[CallModel]:
        model = self._made.get(name)
        if model is None:
            if name not in self:
                raise KeyError(name)
            model = self._made[name] = _step_model(HANDLER_MODELS[name])
        return model

    def __contains__(self, name: object) -> bool:
        return name in HANDLER_MODELS and name != "sleep"

    def __iter__(self) -> Iterator[str]:
        return (name for name in HANDLER_MODELS if name != "sleep")

    def __len__(self) -> int:
        return len(HANDLER_MODELS) - 1


#: Step call models by call name (``sleep`` is handler-only).
STEP_MODELS: Mapping[str, type[CallModel]] = _StepModels()
#: Prefix of the union tags pydantic puts in error locations (``steps[0]`` -> ``call:recv``).
CALL_TAG = "call:"


def _call_union(models: Mapping[str, type[CallModel]]) -> Any:
    """A step or handler entry: a union of ``models`` told apart by ``call``.

    Pydantic builds a union's validator for all its members at once, and building the 28
    call kinds twice (steps and handlers) was most of what ``check`` spent starting on a
    small file. So the entry is validated by a one-member union of the model its ``call``
    names, built the first time a file uses that call: the errors are the full union's,
    union tag in the location included. The JSON Schema is the full union's.
    """

    def tag(value: Any) -> str | None:
        name = value.get("call") if isinstance(value, dict) else getattr(value, "call", None)
        return f"{CALL_TAG}{name}" if isinstance(name, str) and name in models else None

    def union(names: Iterable[str]) -> Any:
        members = tuple(Annotated[models[n], Tag(f"{CALL_TAG}{n}")] for n in names)
        return Annotated[Union[members], Discriminator(tag)]  # noqa: UP007 - a runtime tuple

    built: dict[str, Callable[[Any], Any]] = {}

    def validate(value: Any) -> Any:
        key = tag(value)
        if key is None:  # what the full union says of an entry it cannot tell apart
            raise PydanticKnownError("union_tag_not_found", {"discriminator": "tag()"})
        check = built.get(key)
        if check is None:
            check = TypeAdapter(union([key.removeprefix(CALL_TAG)])).validator.validate_python
            built[key] = check
        return check(value)

    class _ByCall:
        def __get_pydantic_core_schema__(
            self, source: Any, handler: GetCoreSchemaHandler
        ) -> CoreSchema:
            return core_schema.no_info_plain_validator_function(validate)

        def __get_pydantic_json_schema__(
            self, schema: CoreSchema, handler: GetJsonSchemaHandler
        ) -> JsonSchemaValue:
            return handler(TypeAdapter(union(models)).core_schema)

    return Annotated[CallModel, _ByCall()]


if TYPE_CHECKING:  # what a type checker can know of the unions built below

    class StepCall(CallModel):
        at: str
        process: str
        jitter: str | None

    HandlerCall = CallModel
else:
    HandlerCall = _call_union(HANDLER_MODELS)
    StepCall = _call_union(STEP_MODELS)


# --- tables ------------------------------------------------------------------------------


class Network(_Model):
    """Timing and buffer parameters (defaults: contract 1.2)."""

    latency: Time = f"{LATENCY_US}us"
    ipc_delay: Time = f"{IPC_DELAY_US}us"
    recv_buffer: BufferSize = BUFFER_BYTES
    send_buffer: BufferSize = BUFFER_BYTES
    handle_time: Time = f"{HANDLE_TIME_US}us"
    jitter: JitterSpec | None = None  # added to every one-way latency


class SelectSets(_Model):
    """What a select loop waits on: descriptor names per set; a name also covers the
    descriptors numbered from it (``conn``: conn1, conn2, ...)."""

    read: DescSet = Field(default_factory=list)
    write: DescSet = Field(default_factory=list)
    except_: DescSet = Field(default_factory=list, alias="except")


class Thread(_Model):
    """A thread: its loop and its handler lists; ``actor`` names the library object its
    loop acts as (default: the thread)."""

    loop: Literal["none", "messages", "events", "select"] = "none"
    handle_time: Time | None = None
    #: ``loop = "select"``: the sets (default: every open descriptor, for reading)
    select: SelectSets | None = None
    on: dict[HandlerKey, list[HandlerCall]] = Field(default_factory=dict)
    actor: ActorName | None = None

    @model_validator(mode="after")
    def _sets_for_select_loop(self) -> "Thread":
        if self.select is not None and self.loop != "select":
            fail("select", "'select' sets are for loop = \"select\"")
        return self


class Process(Thread):
    """A simulated process: its main thread's loop and handler lists, and its other
    threads (``[processes.A.threads.io]``)."""

    threads: dict[ThreadName, Thread] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _main_not_declared(self) -> "Process":
        if "main" in self.threads:
            fail("thread", "'main' is the process's own thread: its loop is the process's")
        return self


class Connection(_Model):
    """A TCP pair connected at time 0."""

    client: Endpoint
    server: Endpoint


class Outcome(_Model):
    """An ``[[expect]]`` table: one claim about verdicts or totals after the run."""

    KINDS: ClassVar[tuple[str, ...]] = (
        "lost",
        "delivered",
        "none",
        "stale",
        "spurious",
        "hang",
        "stall",
        "blocked",
        "received",
        "undefined",
    )

    lost: RaisedEvent | None = None
    delivered: RaisedEvent | None = None
    none: FindingName | None = None
    stale: RaisedEvent | None = None
    spurious: RaisedEvent | None = None
    hang: ProcessName | None = None
    stall: ProcessName | None = None  # waiting at the end for what already holds, untold
    blocked: ProcessName | None = None  # still waiting at the end, whatever the verdicts
    received: Count | None = None
    #: a call with undefined behaviour (R78) by this process (thread, actor: by that one)
    undefined: ProcessName | None = None
    process: ProcessName | None = None
    thread: ThreadName | None = None  # with process, hang, stall, blocked, undefined: that thread
    actor: ActorName | None = None  # ... that library object
    socket: Endpoint | None = None
    profile: ProfileName | None = None
    count: Count | None = None

    @model_validator(mode="after")
    def _one_claim(self) -> "Outcome":
        found = [k for k in self.KINDS if getattr(self, k) is not None]
        if len(found) != 1:
            given = f" (found {', '.join(found)})" if found else ""
            fail("outcome", f"needs exactly one of {', '.join(self.KINDS)}{given}")
        if self.received is not None and self.process is None:
            fail("outcome", "'received' needs 'process' (whose recv calls to count)")
        named = self.process or self.hang or self.stall or self.blocked or self.undefined
        if (self.thread is not None or self.actor is not None) and named is None:
            fail("outcome", "'thread' and 'actor' need a process (process, hang, blocked)")
        return self

    @property
    def kind(self) -> str:
        """Which claim this is: ``lost``, ``delivered``, ..."""
        return next(k for k in self.KINDS if getattr(self, k) is not None)


class Scenario(_Model):
    """A whole scenario file (contract 1.1)."""

    format: Literal["simnotify/1"]
    name: ScenarioName
    title: Title | None = None
    description: Text = ""
    profile: ProfileName = "observed"
    seed: Seed = 0
    until: Time
    steps: list[StepCall] = Field(default_factory=list)
    network: Network = Field(default_factory=Network)
    processes: Annotated[dict[ProcessName, Process], Field(min_length=1)]
    connection: list[Connection] = Field(default_factory=list)
    expect: list[Outcome] = Field(default_factory=list)

    _source: str = PrivateAttr("<scenario>")
    _lines: LineMap | None = PrivateAttr(None)
    #: set by ``loads`` once the cross-references held, so ``build`` need not check again
    _checked: bool = PrivateAttr(False)

    @model_validator(mode="after")
    def _default_title(self) -> "Scenario":
        if self.title is None:
            self.title = self.name
        return self

    @property
    def source(self) -> str:
        """The file this scenario was read from (``<scenario>`` when built in Python)."""
        return self._source

    def line(self, path: Path) -> int:
        """Line of ``path`` in the source file; 0 when the scenario was built in Python."""
        return self._lines.line(path) if self._lines is not None else 0

    def line_finder(self) -> Callable[[Path], int]:
        """``line`` for many paths: a private attribute costs a lookup per read."""
        lines = self._lines
        return lines.line if lines is not None else _no_line

    def step_times(self) -> list[int]:
        """Absolute time of each step in file order (``+1ms`` is after the previous step)."""
        times: list[int] = []
        now = 0
        for step in self.steps:
            us, relative = parse_time(step.at, allow_relative=True)
            now = now + us if relative else us
            times.append(now)
        return times


def _no_line(path: Path) -> int:
    """The line of anything in a scenario built in Python: none."""
    return 0
