"""Line numbers for paths in TOML text, which the TOML parser does not report.

A small, tolerant scanner follows headers, keys, arrays and inline tables just well enough
to say on which line ``steps[3].events[1]`` starts. It also reads broken and hostile files,
so it never raises, never recurses, and does a bounded amount of work per character.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence

from ..toml import TOMLDecodeError, parse_toml
from .errors import Path

#: Paths deeper than this are not recorded (the format needs about eight levels); without a
#: bound, a file of nested brackets would build ever longer paths, quadratic in its size.
MAX_DEPTH = 32

_SPACE = re.compile(r"[ \t\r]*")
_COMMENT = re.compile(r"#[^\n]*")
_BARE = re.compile(r"[A-Za-z0-9_-]+")
# Strings: possessive loops never backtrack; unterminated strings end at the line or file end.
_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*+"?')
_LITERAL = re.compile(r"'[^'\n]*+'?")
_ML_BASIC = re.compile(r'"""(?:[^"\\]|\\[\s\S]|"{1,2}+(?!"))*+(?:"{3,5}|\\?\Z)')
_ML_LITERAL = re.compile(r"'''(?:[^']|'{1,2}+(?!'))*+(?:'{3,5}|\Z)")
# Numbers, booleans, dates; a date and time may be separated by one space.
_SCALAR_TEXT = r"\d{4}-\d\d-\d\d[Tt ]\d\d:[^\s,\]}#]*|[^\s,\]}#=\[{\"']+"
_SCALAR = re.compile(_SCALAR_TEXT)
# Fast path for the usual inline-table entry, ``key = "text"`` or ``key = 12``, in one match.
_SIMPLE_PAIR = re.compile(
    r"([A-Za-z0-9_-]+)[ \t]*=[ \t]*"
    r"""(?:"(?!"")(?:[^"\\\n]|\\.)*+"|'(?!'')[^'\n]*+'|""" + _SCALAR_TEXT + ")"
)

# An inline table wholly on one line, its values strings, scalars or flat arrays of them:
# nothing in it is on a line of its own, so the scanner steps over it in one match.
_ONE_VALUE = r"""(?:"(?:[^"\\\n]|\\.)*+"|'[^'\n]*+'|[^"'{}\[\],\n#]++)"""
_ONE_LINE_TABLE = re.compile(
    r"\{(?:[ \t,]++|" + _ONE_VALUE + r"|\[(?:[ \t,]++|" + _ONE_VALUE + r")*+\])*+\}"
)


class LineMap:
    """Where each key and array element of a TOML text starts (1-based lines).

    The text is scanned when a line is first asked for: a file that loads without a
    problem, as ``check`` reads it, never needs one.
    """

    __slots__ = ("_lines", "_text", "_until")

    def __init__(self, text: str, until: Path | None = None) -> None:
        """Keep ``text`` to scan; with ``until``, the scan stops as soon as that path is
        found.

        A hostile file can be millions of array elements long; the line of one key near
        its top (``steps``, say) should not cost a scan of all of them.
        """
        self._lines: dict[Path, int] = {}
        self._text: str | None = text
        self._until = until

    def line(self, path: Sequence[str | int]) -> int:
        """Line of ``path``, or of its nearest existing prefix (1 for none)."""
        if self._text is not None:
            text, self._text = self._text, None
            with contextlib.suppress(_Found):
                _Scanner(text, self).run()
        key = tuple(path)
        while key:
            found = self._lines.get(key)
            if found is not None:
                return found
            key = key[:-1]
        return 1

    def define(self, path: Path, line: int) -> None:
        """Note a table or key (first definition wins)."""
        self._lines.setdefault(path, line)
        if path == self._until:
            raise _Found

    def define_item(self, path: Path, line: int) -> None:
        """Note an array element or inline-table key; skipped when on its parent's line.

        Most scenario files hold one inline table per line, so this keeps the map about
        one entry per line instead of one per key, and lookups answer the same.
        """
        if path not in self._lines and self.line(path[:-1]) != line:
            self._lines[path] = line
        if path == self._until:
            raise _Found


class _Found(Exception):
    """Ends a scan that has found the path it was looking for."""


class _Frame:
    """An open array or inline table; ``path`` is ``None`` when too deep to record."""

    __slots__ = ("is_array", "next_index", "path")

    def __init__(self, is_array: bool, path: Path | None) -> None:
        self.is_array = is_array
        self.path = path
        self.next_index = 0


def _join(base: Path | None, keys: Sequence[str | int]) -> Path | None:
    if base is None or len(base) + len(keys) > MAX_DEPTH:
        return None
    return (*base, *keys)


def _key_text(token: str) -> str:
    """The key a quoted token names (escapes decoded when the token is valid TOML)."""
    if token[0] == "'" or "\\" not in token:
        return token[1:-1] if len(token) > 1 and token[-1] == token[0] else token[1:]
    try:
        return str(parse_toml(f"k = {token}")["k"])
    except TOMLDecodeError:
        return token[1:]


class _Scanner:
    """One pass over the text; every loop iteration consumes at least one character."""

    def __init__(self, text: str, out: LineMap) -> None:
        self.text = text
        self.out = out
        self.pos = 0
        self.line = 1
        self.table: Path | None = ()
        self.tables_in_arrays: dict[Path, int] = {}
        self.stack: list[_Frame] = []

    def run(self) -> None:
        text, size = self.text, len(self.text)
        while self.pos < size:
            ch = text[self.pos]
            if ch == "\n":
                self.line += 1
                self.pos += 1
            elif ch in " \t\r":
                self.pos = _SPACE.match(text, self.pos).end()  # type: ignore[union-attr]
            elif ch == "#":
                self.pos = _COMMENT.match(text, self.pos).end()  # type: ignore[union-attr]
            elif self.stack:
                self._in_frame(ch)
            elif ch == "[":
                self._header()
            else:
                self._key_value()

    def _skip_spaces(self) -> None:
        self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def _skip_line(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def _keys(self) -> list[str] | None:
        """A dotted key at ``pos`` (``a."b c".d``), or ``None`` if there is none."""
        parts: list[str] = []
        while True:
            self._skip_spaces()
            pos = self.pos
            match = _BARE.match(self.text, pos) or _BASIC.match(self.text, pos)
            match = match or _LITERAL.match(self.text, pos)
            if match is None:
                return None
            token = match.group()
            parts.append(token if token[0] not in "\"'" else _key_text(token))
            self.pos = match.end()
            self._skip_spaces()
            if not self.text.startswith(".", self.pos):
                return parts
            self.pos += 1

    def _header(self) -> None:
        """``[a.b]`` or ``[[a.b]]``: sets the table later keys belong to."""
        is_array = self.text.startswith("[[", self.pos)
        self.pos += 2 if is_array else 1
        keys = self._keys()
        if keys is None or len(keys) > MAX_DEPTH:
            self.table = None
            self._skip_line()
            return
        path: Path = ()
        for i, key in enumerate(keys):
            path = (*path, key)
            self.out.define(path, self.line)
            if is_array and i == len(keys) - 1:
                index = self.tables_in_arrays.get(path, -1) + 1
                self.tables_in_arrays[path] = index
                path = (*path, index)
                self.out.define(path, self.line)
            elif path in self.tables_in_arrays:
                path = (*path, self.tables_in_arrays[path])
        self.table = path
        self._skip_line()

    def _key_value(self) -> None:
        """``key = value`` in the current table."""
        keys = self._keys()
        if keys is None or not self.text.startswith("=", self.pos):
            self._skip_line()
            return
        self.pos += 1
        path = _join(self.table, keys)
        if path is not None:
            for depth in range(len(path) - len(keys) + 1, len(path) + 1):
                self.out.define(path[:depth], self.line)
        self._value(path)

    def _in_frame(self, ch: str) -> None:
        frame = self.stack[-1]
        if ch in ",]}":
            self.pos += 1
            if ch != ",":
                self.stack.pop()
            return
        if frame.is_array:
            path = _join(frame.path, (frame.next_index,))
            frame.next_index += 1
            if path is not None:
                self.out.define_item(path, self.line)
            self._value(path)
            return
        pair = _SIMPLE_PAIR.match(self.text, self.pos)
        if pair is not None:
            path = _join(frame.path, (pair.group(1),))
            if path is not None:
                self.out.define_item(path, self.line)
            self.pos = pair.end()
            return
        start = self.pos
        keys = self._keys()
        if keys is None or not self.text.startswith("=", self.pos):
            self.pos = max(self.pos, start + 1)
            return
        self.pos += 1
        path = _join(frame.path, keys)
        if path is not None:
            for depth in range(len(path) - len(keys) + 1, len(path) + 1):
                self.out.define_item(path[:depth], self.line)
        self._value(path)

    def _value(self, path: Path | None) -> None:
        """Consume one value, or open the array or inline table it starts."""
        self._skip_spaces()
        text, pos = self.text, self.pos
        if pos >= len(text) or text[pos] in "\n#":
            return
        ch = text[pos]
        if ch == "{" and self.out._until is None:
            table = _ONE_LINE_TABLE.match(text, pos)
            if table is not None:
                self.pos = table.end()
                return
        if ch in "[{":
            self.stack.append(_Frame(ch == "[", path))
            self.pos += 1
            return
        if ch == '"':
            pattern = _ML_BASIC if text.startswith('"""', pos) else _BASIC
        elif ch == "'":
            pattern = _ML_LITERAL if text.startswith("'''", pos) else _LITERAL
        else:
            pattern = _SCALAR
        match = pattern.match(text, pos)
        end = match.end() if match is not None and match.end() > pos else pos + 1
        self.line += text.count("\n", pos, end)
        self.pos = end


#: What :func:`nesting` walks: strings and comments (skipped whole), brackets, newlines.
_NESTING_TOKEN = re.compile(
    "|".join(p.pattern for p in (_ML_BASIC, _ML_LITERAL, _BASIC, _LITERAL, _COMMENT))
    + r"|[\[\]{}\n]"
)


class Nesting:
    """Where brackets and strings open in a broken file, for messages that point there.

    ``deep_line`` is the first line where brackets nest more than ``too_deep`` levels;
    ``open_lines`` the lines of the brackets never closed, outermost first;
    ``string`` the first string never closed, as ``(line, opening quote)``;
    ``spans`` every string over several lines, as ``(first line, last line, quote)``.
    """

    __slots__ = ("deep_line", "open_lines", "spans", "string")

    def __init__(self, text: str, too_deep: int) -> None:
        self.deep_line: int | None = None
        self.open_lines: list[int] = []
        self.string: tuple[int, str] | None = None
        self.spans: list[tuple[int, int, str]] = []
        line = 1
        for match in _NESTING_TOKEN.finditer(text):
            token = match.group()
            first = token[0]
            if first == "\n":
                line += 1
            elif first in "[{":
                self.open_lines.append(line)
                if self.deep_line is None and len(self.open_lines) > too_deep:
                    self.deep_line = line
            elif first in "]}":
                if self.open_lines:
                    self.open_lines.pop()
            elif first in "\"'":
                quote = token[:3] if token.startswith(first * 3) else first
                closed = len(token) >= 2 * len(quote) and token.endswith(quote)
                if (
                    not closed
                    and self.string is None
                    and (len(quote) == 3 or match.end() == len(text))
                ):
                    self.string = (line, quote)
                lines = token.count("\n")
                if lines:
                    self.spans.append((line, line + lines, quote))
                line += lines
