"""The shipped JSON Schema is current and accepts every bundled and conformance scenario."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from simnotify.cli import schema_document

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "simnotify.schema.json"
FILES = sorted(ROOT.glob("scenarios/*.toml")) + sorted(ROOT.glob("tests/conformance/*/*.toml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SHIPPED.read_text()))


def test_shipped_schema_is_regenerated() -> None:
    assert json.loads(SHIPPED.read_text()) == schema_document(), (
        "regenerate it: simnotify schema > simnotify.schema.json"
    )


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_validates_against_schema(
    path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, "\n".join(errors[:5])


def test_schema_rejects_unknown_keys_and_calls() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SHIPPED.read_text()))
    bad = {
        "format": "simnotify/1",
        "name": "x",
        "until": "1ms",
        "processes": {"A": {"lop": "messages"}},
        "steps": [{"at": "0ms", "process": "A", "call": "recvv"}],
    }
    assert len(list(validator.iter_errors(bad))) >= 2
