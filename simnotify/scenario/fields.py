"""Scalar value types of the scenario format, each checked with a message a person can act on.

Every check raises ``PydanticCustomError`` with its final wording, so the loader shows it
as is. Sizes are bounded here so a hostile file cannot ask for absurd values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

from pydantic import (
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    StrictInt,
    Tag,
    TypeAdapter,
)
from pydantic_core import PydanticCustomError, core_schema

from ..names import PROTOCOL_INFO, SELECT_HANDLERS
from ..profiles import PROFILES
from ..units import TimeError, parse_jitter, parse_time
from ..verdicts import FINDINGS
from ..winsock import (
    ERROR_NAMES,
    EVENT_NAMES,
    POLL_NAMES,
    POLL_REQUESTS,
    V1_BITS,
    WSA_MAXIMUM_WAIT_EVENTS,
)
from .errors import describe, did_you_mean, quote, unknown

#: Longest name (process, descriptor, event object, window, id, ...).
NAME_MAX = 200
#: Longest free text (description).
TEXT_MAX = 100_000
#: Longest title (one line).
TITLE_MAX = 1_000
#: Largest byte count in a call or buffer size.
BYTES_MAX = 2**31
#: Largest count or integer result an expectation may name.
COUNT_MAX = 2**31
#: Longest list in an inline expectation (messages queued in one window).
EXPECT_LIST_MAX = 10_000
#: WSA_MAXIMUM_WAIT_EVENTS: WSAWaitForMultipleEvents takes 1..64 handles.
WAIT_MAX = WSA_MAXIMUM_WAIT_EVENTS
#: FD_SETSIZE: a select set, or a WSAPoll array here, holds at most 64 sockets.
SET_MAX = 64
#: SO_LINGER's l_linger is a u_short.
LINGER_MAX = 65_535

#: The FD_ events v1 raises: the only ones handlers, results and outcomes can name.
RAISED_EVENTS: tuple[str, ...] = tuple(n for n, bit in EVENT_NAMES.items() if bit & V1_BITS)
ERRORS: tuple[str, ...] = tuple(ERROR_NAMES.values())
RESULT_NAMES: tuple[str, ...] = (*ERRORS, "WSA_WAIT_TIMEOUT")

_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_SCENARIO_NAME_RE = re.compile(r"[a-z0-9-]+")
_RESULT_NAME_RE = re.compile(r"WSA[E_]")
#: ``FD_X``, ``FD_X:WSAEERR``, optionally ``@DESC``: always matches, parts checked after.
_ENTRY_RE = re.compile(r"([^:@]*)(?::([^@]*))?(?:@(.*))?", re.DOTALL)
_NAME_RULE = "use letters, digits, '_' and '-'"
#: Prefix of this format's error types: their messages are final and shown as they are.
CUSTOM_ERROR = "scenario."


def fail(kind: str, message: str) -> NoReturn:
    """Reject a value with a final, plain-English message."""
    raise PydanticCustomError(CUSTOM_ERROR + kind, "{message}", {"message": message})


def _string(value: object, expected: str, limit: int = NAME_MAX) -> str:
    if not isinstance(value, str):
        fail("string_type", f"expected {expected}, got {describe(value)}")
    if len(value) > limit:
        fail("too_long", f"is longer than {limit} characters")
    return value


def _checked(check: Callable[[Any], Any], schema_type: Any) -> Any:
    return PlainValidator(check, json_schema_input_type=schema_type)


def _name_type(what: str) -> Any:
    def check(value: object) -> str:
        if type(value) is str and len(value) <= NAME_MAX and _NAME_RE.fullmatch(value):
            return value  # the usual case, in one step: a long file has a name per call
        text = _string(value, f"a {what} name")
        if not _NAME_RE.fullmatch(text):
            fail("name", f"{quote(text)} is not a valid {what} name: {_NAME_RULE}")
        return text

    return Annotated[str, _checked(check, str)]


ProcessName = _name_type("process")
DescName = _name_type("descriptor")
EventObjectName = _name_type("event")
WindowName = _name_type("window")
MessageName = _name_type("message")
InfoName = _name_type("protocol info")
ThreadName = _name_type("thread")
ActorName = _name_type("actor")


def _check_label(value: object) -> str:
    text = _string(value, "a label (a string)")
    if not text or not text.isprintable():
        fail("label", "must be one line of printable text")
    return text


#: A call's ``id``: a free-form label such as ``"W10.1-wait"``.
CallId = Annotated[str, _checked(_check_label, str)]


def _check_scenario_name(value: object) -> str:
    text = _string(value, "a scenario name")
    if not _SCENARIO_NAME_RE.fullmatch(text):
        fail("name", f"{quote(text)} is not a valid scenario name: use a-z, 0-9 and '-'")
    return text


ScenarioName = Annotated[str, _checked(_check_scenario_name, str)]


def _check_text(value: object) -> str:
    return _string(value, "a string", TEXT_MAX)


Text = Annotated[str, _checked(_check_text, str)]


def _check_title(value: object) -> str:
    text = _string(value, "a string", TITLE_MAX)
    if not text.isprintable():  # a newline or a control code would break the listing
        fail("title", "must be one line of printable text (put the rest in 'description')")
    return text


#: A scenario's title: one line, shown in listings, timelines and plots.
Title = Annotated[str, _checked(_check_title, str)]


def _check_endpoint(value: object) -> str:
    text = _string(value, "PROCESS.DESCRIPTOR such as 'A.s'")
    proc, dot, desc = text.partition(".")
    if not (dot and _NAME_RE.fullmatch(proc) and _NAME_RE.fullmatch(desc)):
        fail("endpoint", f"expected PROCESS.DESCRIPTOR such as 'A.s', got {quote(text)}")
    return text


#: ``"PROC.DESC"``: a descriptor named in a given process.
Endpoint = Annotated[str, _checked(_check_endpoint, str)]


def split_endpoint(text: str) -> tuple[str, str]:
    """``"A.s"`` -> ``("A", "s")`` (the text was checked by ``Endpoint``)."""
    proc, _, desc = text.partition(".")
    return proc, desc


def _time_check(*, relative: bool) -> Callable[[object], str]:
    def check(value: object) -> str:
        if type(value) is str and len(value) <= NAME_MAX:  # the usual case, checked first
            try:
                parse_time(value, allow_relative=relative)
            except TimeError as exc:
                fail("time", str(exc))
            return value
        if isinstance(value, str) and len(value) > NAME_MAX:
            fail("time", f"is longer than {NAME_MAX} characters")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            fail("time", f'expected a time such as "1ms", got {describe(value)}')
        if isinstance(value, int) and value.bit_length() > 64:
            fail("time", 'expected a time such as "1ms", got a very large integer')
        try:
            parse_time(value, allow_relative=relative)
        except TimeError as exc:
            fail("time", str(exc))
        return value  # type: ignore[return-value]  # parse_time accepted it, so a str

    return check


_check_time = _time_check(relative=False)
#: A time such as ``"250us"``; kept as written, read with ``units.parse_time``.
Time = Annotated[str, _checked(_check_time, str)]
#: A step time: absolute, or ``"+1ms"`` relative to the previous step.
StepTime = Annotated[str, _checked(_time_check(relative=True), str)]


def _check_jitter(value: object) -> str:
    if isinstance(value, str) and len(value) > NAME_MAX:
        fail("jitter", f"is longer than {NAME_MAX} characters")
    try:
        parse_jitter(value)
    except TimeError as exc:
        fail("jitter", str(exc))
    return value  # type: ignore[return-value]  # parse_jitter accepted it, so a str


#: Random extra delay: ``"0..2ms"`` (uniform) or ``"exp(500us)"`` (exponential mean).
JitterSpec = Annotated[str, _checked(_check_jitter, str)]


def _check_timeout(value: object) -> str:
    return "infinite" if value == "infinite" else _check_time(value)


#: ``"infinite"`` (WSA_INFINITE) or a time.
Timeout = Annotated[str, _checked(_check_timeout, str)]


def _check_choice(value: object, kind: str, choices: Collection[str]) -> str:
    text = _string(value, f"{kind} name (a string)")
    if text not in choices:
        fail(kind, unknown(kind, text, choices))
    return text


def _check_mask_event(value: object) -> str:
    return _check_choice(value, "event", EVENT_NAMES)


def _check_raised_event(value: object) -> str:
    text = _check_choice(value, "event", EVENT_NAMES)
    if text not in RAISED_EVENTS:
        fail("event", f"{quote(text)} is never raised in v1: use one of {', '.join(RAISED_EVENTS)}")
    return text


def _check_handler_key(value: object) -> str:
    text = _string(value, "a handler key (a string)")
    head, at, desc = text.partition("@")
    keys = (*EVENT_NAMES, PROTOCOL_INFO, *SELECT_HANDLERS.values())
    _check_choice(head, "event", keys)
    if at:
        if head not in SELECT_HANDLERS.values():
            fail("event", f"only READABLE, WRITABLE and EXCEPT take '@DESC', not {quote(head)}")
        if not _NAME_RE.fullmatch(desc):
            fail("event", f"{quote(desc)} after '@' is not a valid descriptor name: {_NAME_RULE}")
        return text
    if head == PROTOCOL_INFO or head in SELECT_HANDLERS.values():
        return head
    return _check_raised_event(head)


def _check_profile(value: object) -> str:
    return _check_choice(value, "profile", PROFILES)


def _check_finding(value: object) -> str:
    text = _string(value, "a finding (a string)")
    if text not in FINDINGS:
        names = ", ".join(repr(f) for f in FINDINGS[:-1]) + f" or {FINDINGS[-1]!r}"
        fail("finding", f"expected {names}, got {describe(value)}{did_you_mean(text, FINDINGS)}")
    return text


#: Any FD_ name (the four reserved ones are accepted in masks, never raised).
MaskEvent = Annotated[str, _checked(_check_mask_event, str)]
#: An FD_ name that v1 can raise.
RaisedEvent = Annotated[str, _checked(_check_raised_event, str)]
#: A key of ``on``: a raised FD_ name or PROTOCOL_INFO.
HandlerKey = Annotated[str, _checked(_check_handler_key, str)]
ProfileName = Annotated[str, _checked(_check_profile, str)]
#: A kind of verdict that is a finding (the registry's): what ``[[expect]] none`` names.
FindingName = Annotated[str, _checked(_check_finding, Literal[FINDINGS])]


def _check_poll_event(value: object) -> str:
    return _check_choice(value, "poll event", POLL_REQUESTS)


#: A WSAPoll ``events`` name (POLLRDNORM, POLLIN, POLLOUT, ...).
PollEvent = Annotated[str, _checked(_check_poll_event, str)]
#: select's set keys and WSAPoll's result names: what a readiness table may hold.
SELECT_SETS = ("read", "write", "except")
POLL_RESULTS: tuple[str, ...] = tuple(POLL_NAMES.values())

#: A registration's event list (``[]`` cancels).
EventList = Annotated[list[MaskEvent], Field(max_length=len(EVENT_NAMES))]

ByteCount = Annotated[StrictInt, Field(ge=0, le=BYTES_MAX)]
Count = Annotated[StrictInt, Field(ge=0, le=COUNT_MAX)]
BufferSize = Annotated[StrictInt, Field(ge=1, le=BYTES_MAX)]
Seed = Annotated[StrictInt, Field(ge=-(2**63), le=2**64 - 1)]


def _check_recv_bytes(value: object) -> int | str:
    if value == "all" or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= BYTES_MAX
    ):
        return value
    fail("bytes", f"expected a byte count (0 to {BYTES_MAX}) or 'all', got {describe(value)}")


#: recv's ``bytes``: a count, or ``"all"`` (read until WSAEWOULDBLOCK or 0).
RecvBytes = Annotated[int | str, _checked(_check_recv_bytes, int | str)]


def _small_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LINGER_MAX


def _check_option_value(value: object) -> int | list[int]:
    if _small_int(value):
        return value  # type: ignore[return-value]
    if isinstance(value, list | tuple) and len(value) == 2 and all(map(_small_int, value)):
        return list(value)
    fail("value", f"expected 0 or 1, or [onoff, seconds] for SO_LINGER, got {describe(value)}")


#: setsockopt's ``value``: an int, or ``[onoff, seconds]`` for SO_LINGER.
OptionValue = Annotated[int | list[int], _checked(_check_option_value, int | list[int])]


def _check_result(value: object) -> str:
    text = _string(value, "a result")
    if _RESULT_NAME_RE.match(text):
        if text not in RESULT_NAMES:
            fail("result", unknown("error", text, RESULT_NAMES))
    elif not _NAME_RE.fullmatch(text):
        fail("result", f"{quote(text)} is neither an error name nor a descriptor name")
    return text


def _check_entry(value: object) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= COUNT_MAX:
            return value
        fail("entry", f"must be between 0 and {COUNT_MAX}, got {describe(value)}")
    text = _string(value, "an entry such as 'FD_READ' or 'FD_CLOSE:WSAECONNABORTED'")
    match = _ENTRY_RE.fullmatch(text)
    assert match is not None  # every part of the pattern is optional
    event, error, desc = match.groups()
    _check_raised_event(event)
    if error is not None and error not in ERRORS:
        fail("entry", unknown("error", error, ERRORS))
    if desc is not None and not _NAME_RE.fullmatch(desc):
        fail("entry", f"{quote(desc)} after '@' is not a valid descriptor name: {_NAME_RULE}")
    return text


#: A readiness table's key or entry: a set, descriptor or POLL name (the call checks which).
if TYPE_CHECKING:
    _TableName = str
else:
    _TableName = _name_type("descriptor, set or POLL")


def _plain_tag(value: object) -> str | None:
    if isinstance(value, dict):
        return "table"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "str"
    return "list" if isinstance(value, list | tuple) else None


def per_profile(value: object) -> bool:
    """Whether an inline ``expect`` table is keyed by profile: its keys are all profile
    names or near misses of one, or a value is not a list (a readiness table's always is)."""
    if not isinstance(value, dict) or not value:
        return False
    if not all(isinstance(v, list) for v in value.values()):
        return True
    return all(
        k in PROFILES or (k not in SELECT_SETS and did_you_mean(str(k), PROFILES)) for k in value
    )


def _expect_tag(value: object) -> str | None:
    """A table keyed by profile gives results per profile; any other table is a result."""
    return "profiles" if per_profile(value) else _plain_tag(value)


_EXPECT_HELP = "expected a number, a string, a list or a readiness table"
_INT = Annotated[Count, Tag("int")]
_STR = Annotated[Annotated[str, _checked(_check_result, str)], Tag("str")]
_LIST = Annotated[
    Annotated[
        list[Annotated[str | int, _checked(_check_entry, str | int)]],
        Field(max_length=EXPECT_LIST_MAX),
    ],
    Tag("list"),
]
#: A readiness table: select's ``{ read = [...], write = [...] }`` or WSAPoll's revents
#: per descriptor ``{ s = ["POLLRDNORM"] }``; the call's model checks which.
_TABLE = Annotated[
    Annotated[
        dict[_TableName, Annotated[list[_TableName], Field(max_length=SET_MAX)]],
        Field(
            max_length=SET_MAX,
            json_schema_extra={"propertyNames": {"not": {"enum": list(PROFILES)}}},
        ),
    ],
    Tag("table"),
]
#: A call result to compare with: int, result name, list (FD_ entries, or SO_LINGER's
#: pair), or a readiness table.
PlainExpect = Annotated[
    _INT | _STR | _LIST | _TABLE,
    Discriminator(
        _plain_tag, custom_error_type=CUSTOM_ERROR + "expect", custom_error_message=_EXPECT_HELP
    ),
]

#: Results per profile (for the schema: keyed by profile names only).
_PROFILES = Annotated[
    Annotated[
        dict[ProfileName, PlainExpect],
        Field(json_schema_extra={"propertyNames": {"enum": list(PROFILES)}}),
    ],
    Tag("profiles"),
]

_EXPECTATION = Annotated[
    _INT | _STR | _LIST | _TABLE | _PROFILES,
    Discriminator(
        _expect_tag,
        custom_error_type=CUSTOM_ERROR + "expect",
        custom_error_message=f"{_EXPECT_HELP}, or a table keyed by profile",
    ),
]


class _BuiltOnFirstUse:
    """Validates with ``target``'s validator, built once, the first time a value needs it,
    instead of into every model that has the field: its errors and JSON Schema are
    ``target``'s own."""

    def __init__(self, target: Any) -> None:
        self._target = target
        self._check: Callable[[Any], Any] | None = None

    def _validate(self, value: Any) -> Any:
        if self._check is None:
            self._check = TypeAdapter(self._target).validator.validate_python
        return self._check(value)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_plain_validator_function(self._validate)

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return handler(TypeAdapter(self._target).core_schema)


#: An inline ``expect``: a plain result, or a table of results keyed by profile. Every
#: call model has one (55 of them), and its schema is the costliest part of each.
if TYPE_CHECKING:
    Expectation = Any
else:
    Expectation = Annotated[Any, _BuiltOnFirstUse(_EXPECTATION)]
