"""Problems found in a scenario, and the exception that carries all of them at once.

Users fix files faster when every mistake is listed in one run, each pointing at a line,
so validation collects ``Problem`` values instead of stopping at the first one.
"""

from __future__ import annotations

import datetime
import difflib
import itertools
import json
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

#: A location inside the parsed file: table keys and array indexes, outermost first.
Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
#: Longest user text quoted back in a message; the rest is elided.
_QUOTE_MAX = 60
#: Words longer than this get no "did you mean" (difflib is quadratic in length) ...
_SUGGEST_MAX = 100
#: ... nor do choices among more names than this (each hint would cost milliseconds).
_SUGGEST_FROM_MAX = 1_000


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake: ``FILE:LINE: dotted.path: message`` (``line`` 0 = no line applies)."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` lists every mistake found, by line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(path: Path) -> str:
    """``("steps", 3, "events", 1)`` -> ``steps[3].events[1]``; odd keys are quoted."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
            continue
        out.append(f".{_path_key(part)}" if out else _path_key(part))
    return "".join(out)


def _path_key(key: str) -> str:
    """A key as TOML would write it: bare if it can be, else quoted; long ones clipped."""
    if len(key) <= _QUOTE_MAX and _BARE_KEY.fullmatch(key):
        return key
    if len(key) <= _QUOTE_MAX:
        return json.dumps(key)
    return f'{json.dumps(key[: _QUOTE_MAX - 1])[:-1]}…"'


def quote(text: str) -> str:
    """A user's string, quoted and clipped, with unprintable characters escaped."""
    return repr(_clip(text))


def describe(value: object) -> str:
    """A short description of a parsed value for "got ..." in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 64 else "a very large integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, datetime.datetime):
        return f"a TOML date-time ({value.isoformat()})"
    if isinstance(value, datetime.date):
        return f"a TOML date ({value.isoformat()})"
    if isinstance(value, datetime.time):
        return f"a TOML time of day ({value.isoformat()})"
    return f"a {type(value).__name__}"


def did_you_mean(word: str, candidates: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``""`` when none is close."""
    if len(word) > _SUGGEST_MAX or len(candidates) > _SUGGEST_FROM_MAX:
        return ""
    folded = {c.casefold(): c for c in candidates}
    close = difflib.get_close_matches(word.casefold(), folded, n=1, cutoff=0.6)
    return f" (did you mean {quote(folded[close[0]])}?)" if close else ""


def unknown(kind: str, word: str, candidates: Collection[str]) -> str:
    """``unknown call 'recvv' (did you mean 'recv'?)``."""
    return f"unknown {kind} {quote(word)}{did_you_mean(word, candidates)}"


def _clip(text: str) -> str:
    return text if len(text) <= _QUOTE_MAX else text[: _QUOTE_MAX - 1] + "…"


def sorted_problems(file: str, found: Iterable[tuple[int, Path, str]], limit: int) -> list[Problem]:
    """The first ``limit`` problems found, in line order; a note says when more exist.

    ``found`` is consumed lazily: a hostile file can hold millions of mistakes, and
    nobody reads past the first screenful.
    """
    first = list(itertools.islice(found, limit + 1))
    ordered = sorted(first[:limit], key=lambda item: item[0])
    problems = [Problem(file, line, format_path(path), msg) for line, path, msg in ordered]
    if len(first) > limit:
        problems.append(_more(file, limit))
    return problems


def merged(first: list[Problem], second: list[Problem], limit: int) -> list[Problem]:
    """Two located lists as one, in line order. What the first says of a path covers the
    paths inside it: a value of the wrong type is reported once, not also as a dangling name."""
    notes = [p for p in (*first, *second) if p.line == 0 and not p.path]
    seen = {p.path for p in first if p.path}

    def covered(path: str) -> bool:
        while path:
            if path in seen:
                return True
            cut = max(path.rfind("."), path.rfind("["))
            path = path[: max(cut, 0)]
        return False

    both = [p for p in first if p not in notes] + [
        p for p in second if p not in notes and not covered(p.path)
    ]
    both.sort(key=lambda p: p.line)
    if len(both) > limit or notes:
        return [*both[:limit], notes[0] if notes else _more(first[0].file, limit)]
    return both


def _more(file: str, limit: int) -> Problem:
    return Problem(
        file,
        0,
        "",
        f"more problems not shown (stopped after {limit}; "
        "raise the limit with --max-problems, LoadLimits.max_problems)",
    )
