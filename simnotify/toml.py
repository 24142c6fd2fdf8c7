"""The one TOML parser simnotify reads with: ``tomli``, TOML 1.0 as Python's ``tomllib``.

``tomllib`` is ``tomli`` frozen into the standard library as pure Python; the ``tomli``
wheels are compiled (mypyc) and parse a file at the load limits in half the time, which
was most of what ``check`` spent on it. Versions before 2.4 read TOML 1.0, the language
``tomllib`` reads, with the same messages; later ones read TOML 1.1, which would change
which scenario files load (pyproject.toml pins the range).
"""

from __future__ import annotations

from tomli import TOMLDecodeError
from tomli import loads as parse_toml

__all__ = ["TOMLDecodeError", "ended_early", "parse_toml"]


def ended_early(exc: TOMLDecodeError) -> bool:
    """Whether the text ended inside something (an unclosed bracket or string, say)."""
    return exc.pos >= len(exc.doc)
