"""The TOML parser: the compiled ``tomli`` and the standard library's ``tomllib`` (used
when ``tomli`` is missing) read the same files and give the same located problems."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest
import tomli

from simnotify import toml
from simnotify.scenario import ScenarioError, loads

load_module = importlib.import_module("simnotify.scenario.load")

ROOT = Path(__file__).resolve().parent.parent
#: Broken TOML of every kind the loader words: the corpus's syntax files and a few more.
BROKEN = [
    p.read_bytes().decode("utf-8", "replace") for p in sorted((ROOT / "tests" / "bad").iterdir())
] + [
    "a = { b = 1, }\n",
    "a = { b = 1,\n  c = 2 }\n",
    'a = "open\nb = 1\n',
    'a = """never closed\n\nb = 1\n',
    "a = [1,\n2,\n",
    "a = 1\na = 2\n",
    "[t]\nx = 1\n[t]\n",
    "a = " + "[" * 3000 + "]" * 3000,
    "a = " + "9" * 5000 + "\n",
    "a = 1\x00",
    "\n\nkey without value\n",
    "a = 2026-13-45\n",
    "",
]


def _outcome(parser: object, text: str) -> object:
    try:
        return ("ok", parser.loads(text))  # type: ignore[attr-defined]
    except RecursionError:
        return ("too deep",)
    except parser.TOMLDecodeError as exc:  # type: ignore[attr-defined]
        return toml.syntax_error(exc, text)
    except ValueError:
        return ("number",)


@pytest.mark.parametrize("index", range(len(BROKEN)))
def test_both_parsers_accept_the_same_and_say_the_same(index: int) -> None:
    """Same data, or the same message at the same line and column."""
    text = BROKEN[index]
    assert _outcome(tomli, text) == _outcome(tomllib, text)


def test_the_error_position_is_read_from_the_message_when_the_error_has_no_attributes() -> None:
    text = "a = 1\nb = \n"
    with pytest.raises(tomli.TOMLDecodeError) as info:
        tomli.loads(text)
    bare = ValueError(str(info.value))  # as Python 3.11's tomllib raises it
    assert toml.syntax_error(bare, text) == toml.SyntaxProblem("Invalid value", 2, 5, False)
    assert toml.syntax_error(info.value, text) == toml.SyntaxProblem("Invalid value", 2, 5, False)
    at_end = ValueError("Unterminated string (at end of document)")
    assert toml.syntax_error(at_end, 'a = "x') == toml.SyntaxProblem(
        "Unterminated string", 1, 7, True
    )


def _problems(text: str) -> list[str]:
    try:
        loads(text, source="s.toml")
    except ScenarioError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize("index", range(len(BROKEN)))
def test_the_loader_words_each_problem_the_same_with_either_parser(
    index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = BROKEN[index]
    with_tomli = _problems(text)
    monkeypatch.setattr(load_module, "parse_toml", tomllib.loads)
    monkeypatch.setattr(load_module, "TOMLDecodeError", tomllib.TOMLDecodeError)
    assert _problems(text) == with_tomli


def test_the_parser_reads_toml_1_0() -> None:
    """TOML 1.1 (tomli 2.4) allows a trailing comma in an inline table; 1.0 does not."""
    assert _problems('format = "simnotify/1"\nname = "t"\nuntil = "1ms"\nx = { a = 1, }\n') == [
        "s.toml:4: TOML syntax: invalid initial character for a key part (column 14); "
        "remove the comma before '}' (inline tables allow no trailing comma)"
    ]


def test_tomli_is_the_parser_when_installed() -> None:
    """It is a dependency: the standard library's parser is only the fallback."""
    assert toml.parse_toml is tomli.loads
    assert toml.TOMLDecodeError is tomli.TOMLDecodeError
