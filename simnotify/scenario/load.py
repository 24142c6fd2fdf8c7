"""Scenario files -> validated ``Scenario``, with every problem located at its line.

Whatever the input, the only exception that leaves ``loads`` is ``ScenarioError``: files
come from users and from the internet, and a traceback helps neither.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..gcpause import collector_paused
from ..toml import TOMLDecodeError, parse_toml, syntax_error
from .checks import check_raw
from .errors import Problem, ScenarioError, format_path, merged, sorted_problems
from .locate import LineMap, Nesting
from .messages import error_message, error_path
from .model import Scenario

_LONG_NUMBER = re.compile(r"[0-9_]{4000,}")
#: A long key the parser quotes back ("cannot declare ('processes', 'aaa...') twice").
_LONG_QUOTED = re.compile(r"'[^'\n]{60,}'")
#: Nesting deeper than any scenario needs (about eight levels), and far less than the
#: depth at which the TOML parser gives up (hundreds): where a too-deep file is reported.
TOO_DEEP = 100
_KEY_AT_LINE_START = re.compile(r"[ \t]*([A-Za-z0-9_.\- \t]{1,60}?)[ \t]*=")


@dataclass(frozen=True, slots=True)
class LoadLimits:
    """Bounds checked before validation, so a hostile file fails fast and clearly."""

    #: Largest file read, in bytes (checked before the whole file is read).
    max_file_bytes: int = 10 * 1024 * 1024
    #: Most entries in ``steps``.
    max_steps: int = 200_000
    #: Most entries in ``processes``.
    max_processes: int = 10_000
    #: Most calls in one handler list (``on.FD_READ = [...]``).
    max_handlers: int = 1_000
    #: Most problems reported for one file; further ones are not looked for.
    max_problems: int = 1_000


DEFAULT_LIMITS = LoadLimits()


def load(path: str | os.PathLike[str], limits: LoadLimits = DEFAULT_LIMITS) -> Scenario:
    """Read and validate a scenario file.

    Raises ``ScenarioError`` for any problem with the content, and ``OSError`` (such as
    ``FileNotFoundError``) when the file cannot be read at all.
    """
    source = os.fspath(path)
    return loads(_read(source, limits), source=source, limits=limits)


#: Bytes read at a time: a file of NUL bytes (a huge sparse file, ``/dev/zero``) is not
#: read on past the first piece that shows it is no text.
_PIECE = 1 << 20


def _read(source: str, limits: LoadLimits) -> bytes:
    """The file's bytes, at most ``max_file_bytes + 1`` of them, ending after the first NUL.

    Opened without blocking, so a FIFO with no writer reads as empty instead of waiting
    forever in ``open``; reads then block as usual, for a pipe that has a writer.
    """
    fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb", buffering=0) as f:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), source)
        if info.st_size > limits.max_file_bytes:  # 0 for pipes and devices: then read to see
            raise _too_large(source, limits, info.st_size)
        if not stat.S_ISREG(info.st_mode):
            os.set_blocking(fd, True)
        pieces: list[bytes] = []
        left = limits.max_file_bytes + 1
        while left > 0:
            piece = f.read(min(_PIECE, left))
            if not piece:
                break
            nul = piece.find(0)
            if nul >= 0:  # never valid TOML: what came before it is all a message needs
                pieces.append(piece[: nul + 1])
                break
            pieces.append(piece)
            left -= len(piece)
    try:
        return b"".join(pieces)
    except MemoryError:
        raise _fail(source, 1, "file is too large to hold in memory") from None


def loads(
    text: str | bytes, source: str = "<string>", limits: LoadLimits = DEFAULT_LIMITS
) -> Scenario:
    """Validate scenario text (or the bytes of a file); raises ``ScenarioError``.

    The cycle collector rests meanwhile: a long file is hundreds of thousands of
    long-lived dicts and models, which it would walk again and again as they age, for
    nothing (loading makes no reference cycles)."""
    with collector_paused():
        return _loads(text, source, limits)


def _loads(text: str | bytes, source: str, limits: LoadLimits) -> Scenario:
    text = _decode(text, source, limits)
    raw = _parse(text, source)
    problems = _over_limits(raw, text, source, limits)
    if problems:
        raise ScenarioError(problems)
    lines = LineMap(text)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        schema = _validation_problems(exc, raw, lines, source, limits)
        refs = check_raw(raw, lines.line, source, limits.max_problems)
        raise ScenarioError(merged(schema, refs, limits.max_problems)) from None
    scenario._source = source
    scenario._lines = lines
    problems = check_raw(raw, lines.line, source, limits.max_problems)
    if problems:
        raise ScenarioError(problems)
    scenario._checked = True
    return scenario


def _fail(source: str, line: int, message: str) -> ScenarioError:
    return ScenarioError([Problem(source, line, "", message)])


def _too_large(source: str, limits: LoadLimits, size: int | None = None) -> ScenarioError:
    limit = limits.max_file_bytes
    what = (
        f"is {size} bytes; at most {limit}" if size else f"is larger than {limit} bytes, the most"
    )
    return _fail(
        source,
        1,
        f"file {what} allowed: raise the limit with --max-file-bytes (LoadLimits.max_file_bytes)",
    )


def _decode(text: str | bytes, source: str, limits: LoadLimits) -> str:
    """Size-checked text; a file must be UTF-8 (a leading byte-order mark is allowed)."""
    if len(text) > limits.max_file_bytes:
        raise _too_large(source, limits)
    try:
        if isinstance(text, bytes):
            return text.decode("utf-8-sig")
        text = text.removeprefix("\ufeff")  # as the bytes of a file may start
        if len(text.encode("utf-8")) > limits.max_file_bytes:
            raise _too_large(source, limits)
    except (UnicodeDecodeError, UnicodeEncodeError) as exc:
        before = exc.object[: exc.start]
        line = (before.count(b"\n") if isinstance(before, bytes) else before.count("\n")) + 1
        bad = exc.object[exc.start : exc.start + 1]
        message = f"not UTF-8 text (cannot read {bad!r}); save it as UTF-8"
        if exc.object[exc.start : exc.start + 2] in (b"\xff\xfe", b"\xfe\xff"):
            message = "UTF-16 text (found a UTF-16 byte-order mark); save it as UTF-8"
        raise _fail(source, line, message) from None
    return text


def _parse(text: str, source: str) -> dict[str, Any]:
    """TOML -> plain data; syntax errors are located at the parser's line."""
    try:
        return parse_toml(text)
    except TOMLDecodeError as exc:
        error = syntax_error(exc, text)
        line, column, at_end = error.line, error.column, error.at_end
        hint = _syntax_hint(error.message, at_end, text, line, column)
        if at_end:
            line, hint = _at_end(text, line, hint)
        elif not hint:
            hint = _after_string(text, line)
        where = "at end of file" if at_end else f"column {column}"
        message = _LONG_QUOTED.sub(lambda m: f"{m.group()[:60]}…'", f"{error.message} ({where})")
        message = f"TOML syntax: {message[:1].lower()}{message[1:]}{hint}"
        raise _fail(source, line, message) from None
    except RecursionError:
        line = Nesting(text, TOO_DEEP).deep_line or 1
        raise _fail(
            source, line, f"arrays or tables are nested more than {TOO_DEEP} deep here"
        ) from None
    except ValueError:  # int() refuses numbers with thousands of digits
        long = _LONG_NUMBER.search(text)
        line = text.count("\n", 0, long.start()) + 1 if long is not None else 1
        raise _fail(source, line, "a number has too many digits") from None


def _at_end(text: str, line: int, hint: str) -> tuple[int, str]:
    """A file that ends inside something: the line where it opened, and what to close."""
    nesting = Nesting(text, TOO_DEEP)
    if nesting.string is not None:
        start, quote = nesting.string
        return start, f"; the string opened with {quote} here is never closed"
    if nesting.open_lines:
        opened = nesting.open_lines[-1]
        return line, f"; the array [ or inline table {{ opened on line {opened} is never closed"
    return line, hint


def _after_string(text: str, line: int) -> str:
    """A mistake on the line where a string over several lines ends: most likely that
    string was not closed where it was meant to be, and ran on to a later quote."""
    for start, end, quote in Nesting(text, TOO_DEEP).spans:
        if end <= line <= end + 1:
            return (
                f"; the string opened with {quote} on line {start} ends on line {end}: "
                "is that where it was meant to end?"
            )
    return ""


def _syntax_hint(message: str, at_end: bool, text: str, line: int, column: int) -> str:
    """What usually causes the parser's terser messages, as ``"; ..."`` (or ``""``)."""
    if "\x00" in text:
        return "; the file holds NUL bytes: is it UTF-16 or binary? Save it as UTF-8 text"
    if at_end:
        return "; is an array [ or an inline table { not closed?"
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
    at = text[start + column - 1 : start + column]
    if message.startswith(("Invalid initial character for a key part", "Unclosed inline table")):
        if at in ("\n", "\r", ""):
            return "; an inline table { ... } must end with '}' on the same line"
        if at == "}":
            return "; remove the comma before '}' (inline tables allow no trailing comma)"
    if message.startswith("Illegal character") and at == "\n":
        return '; is a string not closed on this line? (text over several lines needs """)'
    if message.startswith("Cannot overwrite a value"):
        key = _KEY_AT_LINE_START.match(text, start)
        if key is not None:
            return f"; {key.group(1).strip()} is set twice"
    return ""


def _over_limits(raw: dict[str, Any], text: str, source: str, limits: LoadLimits) -> list[Problem]:
    """Counts beyond ``limits``, checked on the raw data before validating anything.

    Lines are looked up only for what is over a limit, with a scan that stops at the
    first such path: an oversized file is refused without walking all of it.
    """
    found: list[tuple[tuple[str, ...], str]] = []

    def over(path: tuple[str, ...], items: object, limit: int, what: str, field: str) -> bool:
        if isinstance(items, list | dict) and len(items) > limit:
            flag = "--" + field.replace("_", "-")
            message = (
                f"has {len(items)} {what}; at most {limit} allowed: "
                f"raise the limit with {flag} (LoadLimits.{field})"
            )
            found.append((path, message))
            return True
        return False

    over(("steps",), raw.get("steps"), limits.max_steps, "steps", "max_steps")
    processes = raw.get("processes")
    if not over(("processes",), processes, limits.max_processes, "processes", "max_processes"):
        for name, process in processes.items() if isinstance(processes, dict) else ():
            tables: list[tuple[tuple[str, ...], Any]] = [(("processes", name), process)]
            threads = process.get("threads") if isinstance(process, dict) else None
            path = ("processes", name, "threads")
            if not over(path, threads, limits.max_processes, "threads", "max_processes"):
                for t, thread in threads.items() if isinstance(threads, dict) else ():
                    tables.append(((*path, t), thread))
            for base, table in tables:  # the process's and each thread's handler lists
                handlers = table.get("on") if isinstance(table, dict) else None
                for key, calls in handlers.items() if isinstance(handlers, dict) else ():
                    over((*base, "on", key), calls, limits.max_handlers, "calls", "max_handlers")
    if not found:
        return []
    lines = LineMap(text, until=found[0][0] if len(found) == 1 else None)
    problems = [Problem(source, lines.line(path), format_path(path), msg) for path, msg in found]
    return sorted(problems, key=lambda problem: problem.line)


def _validation_problems(
    exc: ValidationError, raw: dict[str, Any], lines: LineMap, source: str, limits: LoadLimits
) -> list[Problem]:
    """Pydantic's errors, in line order; only the ones shown are put into words."""
    errors = exc.errors(include_url=False)
    located = sorted(
        ((lines.line(path), i, path) for i, path in enumerate(error_path(e, raw) for e in errors)),
        key=lambda item: item[:2],
    )

    def found() -> Iterator[tuple[int, tuple[str | int, ...], str]]:
        for line, i, path in located:
            yield line, path, error_message(errors[i], path)

    return sorted_problems(source, found(), limits.max_problems)
