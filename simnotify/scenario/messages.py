"""Pydantic's validation errors, restated as located, plain-English messages.

Pydantic reports locations with internal markers (union tags, ``[key]``) and generic
wording ("Input should be ..."); users need the path as written in their file and a
message that says what to change.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from .errors import Path, describe, did_you_mean, quote, unknown
from .fields import CUSTOM_ERROR
from .model import (
    CALL_TAG,
    HANDLER_MODELS,
    STEP_MODELS,
    Connection,
    Network,
    Outcome,
    Process,
    Scenario,
)

_EXPECTED = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "an array",
    "tuple_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}
_QUOTED = re.compile(r"'([^']*)'")


def error_path(error: ErrorDetails, data: Any) -> Path:
    """The error's location as written in the file, found by walking the parsed data.

    Location parts that do not exist in the data are pydantic's union tags and are
    dropped, except the last part of a "missing" error, which names the absent key.
    """
    loc = error["loc"]
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if part == "[key]":
            break
        in_data = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if in_data:
            node = node[part]
        elif error["type"] != "missing" or i < len(loc) - 1:
            continue  # a union tag
        path.append(part)
    if error["type"] == "union_tag_not_found" and isinstance(node, dict):
        path.append("call")
    return tuple(path)


def error_message(error: ErrorDetails, path: Path) -> str:
    """What is wrong and, where possible, how to fix it."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == f"{CUSTOM_ERROR}expect":  # a discriminator's message: the value is not in it
        return f"{error['msg']}, got {describe(value)}"
    if kind.startswith(CUSTOM_ERROR):
        return error["msg"]
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        return _unknown_key(error["loc"], path)
    if kind == "union_tag_not_found":
        return _bad_call(value, in_steps=path[:1] == ("steps",))
    if kind == "literal_error":
        choices = _QUOTED.findall(str(ctx.get("expected", "")))
        hint = did_you_mean(value, choices) if isinstance(value, str) and len(choices) > 1 else ""
        return f"expected {ctx.get('expected')}, got {describe(value)}{hint}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe(value)}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {ctx.get(key)}, got {describe(value)}"
    if kind == "too_short":
        least = ctx.get("min_length")
        return f"needs at least {least} {'entry' if least == 1 else 'entries'}"
    if kind == "too_long":
        return f"has {ctx.get('actual_length')} entries; at most {ctx.get('max_length')} allowed"
    message = error["msg"]
    return message[:1].lower() + message[1:]


def _unknown_key(loc: tuple[str | int, ...], path: Path) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return f"unknown key {quote(key)}"
    if key in ("at", "process") and path[:1] == ("processes",):
        return (
            f"unknown key {quote(key)}: 'at' and 'process' belong to steps; "
            "handlers run when their event arrives"
        )
    known = [field.alias or name for name, field in model.model_fields.items()]
    return unknown("key", key, known)


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model validating the table at raw location ``loc`` (union tags included)."""
    if loc and isinstance(loc[-1], str) and loc[-1].startswith(CALL_TAG):
        models = STEP_MODELS if loc[0] == "steps" else HANDLER_MODELS
        return models.get(loc[-1].removeprefix(CALL_TAG))
    if not loc:
        return Scenario
    if loc == ("network",):
        return Network
    tables: dict[str | int, type[BaseModel]] = {
        "processes": Process,
        "connection": Connection,
        "expect": Outcome,
    }
    return tables.get(loc[0]) if len(loc) == 2 else None


def _bad_call(value: Any, *, in_steps: bool) -> str:
    """Why a step or handler entry could not be matched to a call."""
    if not isinstance(value, dict):
        return f'expected a table such as {{ call = "recv", ... }}, got {describe(value)}'
    name = value.get("call")
    if name is None:
        return "missing required key"
    if not isinstance(name, str):
        return f"expected a call name (a string), got {describe(name)}"
    if in_steps and name == "sleep":
        return "'sleep' is only allowed in handlers (processes.NAME.on)"
    return unknown("call", name, STEP_MODELS if in_steps else HANDLER_MODELS)
