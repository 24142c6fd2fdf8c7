"""The one TOML parser simnotify reads with: ``tomli``, TOML 1.0 as Python's ``tomllib``.

``tomllib`` is ``tomli`` frozen into the standard library as pure Python; the ``tomli``
wheels are compiled (mypyc) and parse a file at the load limits in half the time, which
was most of what ``check`` spent on it. Versions before 2.4 read TOML 1.0, the language
``tomllib`` reads, with the same messages; later ones read TOML 1.1, which would change
which scenario files load (pyproject.toml pins the range).

Without ``tomli`` (an environment installed before it was a dependency) ``tomllib`` reads
the same files and gives the same problems, only slower: :func:`syntax_error` reads the
position from either parser's error (tests/test_toml.py holds them to the same answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

try:
    import tomli as _parser
except ModuleNotFoundError:  # slower, and the same files and problems
    import tomllib as _parser  # type: ignore[no-redef]

__all__ = ["SyntaxProblem", "TOMLDecodeError", "parse_toml", "syntax_error"]

TOMLDecodeError = _parser.TOMLDecodeError
parse_toml = _parser.loads

#: The position ``tomllib`` before Python 3.14 gives only at the end of its message.
_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$")


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """A syntax error: the parser's words, its 1-based line and column, and whether the
    text ended inside something (an unclosed bracket or string, say)."""

    message: str
    line: int
    column: int
    at_end: bool


def syntax_error(exc: ValueError, text: str) -> SyntaxProblem:
    """Where and what ``exc``, raised parsing ``text``, says is wrong.

    ``tomli`` 2.1 and later (and ``tomllib`` from Python 3.14) say it in attributes;
    older ``tomllib`` only in the message text, which ends with the position."""
    pos = getattr(exc, "pos", None)
    if isinstance(pos, int):
        at_end = pos >= len(text)
        return SyntaxProblem(getattr(exc, "msg", str(exc)), *_line_column(text, pos), at_end)
    message = str(exc)
    found = _POSITION.search(message)
    if found is None or found.group(1) is None:  # at the end of the text
        words = message[: found.start()] if found is not None else message
        return SyntaxProblem(words, *_line_column(text, len(text)), True)
    line, column = int(found.group(1)), int(found.group(2))
    return SyntaxProblem(message[: found.start()], line, column, False)


def _line_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of the character at ``pos``, as the parsers count them."""
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)
