"""Time values: scenario strings such as "1.5ms" <-> integer microseconds.

The engine never sees floats: every time is an integer count of microseconds, so
traces are exact and identical across platforms.
"""

from __future__ import annotations

import functools
import json
import re
from decimal import Decimal, InvalidOperation

_UNITS: dict[str, int] = {"us": 1, "ms": 1_000, "s": 1_000_000}
_TIME_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(us|ms|s)\s*$")

#: Longest time text quoted back in a message.
_SHOWN_MAX = 40

#: Largest time a scenario may name: one simulated day.
MAX_TIME_US = 86_400 * 1_000_000


class TimeError(ValueError):
    """A time string that cannot be read; the message says how to write it."""


def parse_time(text: object, *, allow_relative: bool = False) -> tuple[int, bool]:
    """Parse ``"250us"``, ``"1.5ms"``, ``"2s"`` (or ``"+1ms"``) into (microseconds, relative).

    Fractions finer than a microsecond are rejected rather than rounded, so a
    scenario means exactly what it says. Loading reads each step's time three times
    (validation, the step-order check, the plan), and a long file repeats a few times many
    times over: answers are remembered, up to ``_REMEMBERED`` texts.
    """
    if type(text) is str:
        return _parse_text(text, allow_relative)
    return _parse_time(text, allow_relative)


#: Time texts whose value ``parse_time`` remembers.
_REMEMBERED = 1 << 16


@functools.lru_cache(maxsize=_REMEMBERED)
def _parse_text(text: str, allow_relative: bool) -> tuple[int, bool]:
    return _parse_time(text, allow_relative)


def _parse_time(text: object, allow_relative: bool) -> tuple[int, bool]:
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise TimeError(f'expected a time such as "1ms", got {type(text).__name__}')
    if isinstance(text, (int, float)):
        if not _TIME_RE.match(f"{text}s"):  # inf, nan, -5, 1e+300: no fix to suggest
            raise TimeError(f'expected a time such as "1ms" (a string with a unit), got {text}')
        raise TimeError(f'a time needs a unit: write "{text}ms" or "{text}us", not {text}')
    raw = text.strip()
    relative = raw.startswith("+")
    if relative:
        if not allow_relative:
            raise TimeError(f"relative time {_shown(raw)} is only allowed in steps")
        raw = raw[1:]
    if raw.startswith("-"):
        raise TimeError(f"time {_shown(text)} is negative")
    m = _TIME_RE.match(raw)
    if m is None:
        number = raw.strip()
        if re.fullmatch(r"[0-9.]+", number):
            raise TimeError(f'time {_shown(text)} has no unit: write "{number}ms" or "{number}us"')
        raise TimeError(f'cannot read time {_shown(text)}: write e.g. "250us", "1.5ms" or "2s"')
    try:
        value = Decimal(m.group(1)) * _UNITS[m.group(2)]
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise TimeError(f"cannot read time {_shown(text)}") from exc
    if value != value.to_integral_value():
        raise TimeError(f"time {_shown(text)} is finer than a microsecond")
    us = int(value)
    if us > MAX_TIME_US:
        raise TimeError(f"time {_shown(text)} is more than one simulated day (86400s)")
    return us, relative


def _shown(text: str) -> str:
    """``text`` in double quotes for a message: escaped (one line, no control codes), and
    clipped when long."""
    if len(text) <= _SHOWN_MAX:
        return json.dumps(text)
    return f'{json.dumps(text[: _SHOWN_MAX - 1])[:-1]}…"'


def format_time(us: int) -> str:
    """Render microseconds as milliseconds with three decimals: ``12.000ms``."""
    return f"{us // 1000}.{us % 1000:03d}ms"


_UNIFORM_RE = re.compile(r"^\s*([0-9.]+)\s*(us|ms|s)?\s*\.\.\s*([0-9.]+)\s*(us|ms|s)\s*$")
_EXP_RE = re.compile(r"^\s*exp\(\s*(.+?)\s*\)\s*$")


def parse_jitter(text: object) -> tuple[str, int, int]:
    """``"0..2ms"`` -> ("uniform", 0, 2000); ``"exp(500us)"`` -> ("exp", 0, 500).

    In ``A..B`` the unit of B also applies to A when A has none.
    """
    if not isinstance(text, str):
        raise TimeError('expected a jitter such as "0..2ms" or "exp(500us)"')
    m = _EXP_RE.match(text)
    if m is not None:
        mean, _ = parse_time(m.group(1))
        return "exp", 0, mean
    m = _UNIFORM_RE.match(text)
    if m is None:
        raise TimeError(
            f'cannot read jitter {text!r}: write a range such as "0..2ms" (uniform) '
            'or "exp(500us)" (exponential with that mean)'
        )
    low, _ = parse_time(m.group(1) + (m.group(2) or m.group(4)))
    high, _ = parse_time(m.group(3) + m.group(4))
    if low > high:
        raise TimeError(f"jitter {text!r} runs backwards: the lower bound comes first")
    return "uniform", low, high
