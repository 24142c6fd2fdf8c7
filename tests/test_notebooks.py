"""The notebooks are committed executed, so a reader of the repository sees their tables
and pictures; here they run again top to bottom with a real kernel (offline, headless),
all at once, and must run without an error and give the same kinds of output."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def kinds(nb: Any) -> list[list[str]]:
    """Per code cell, the kinds of output it has: stream names and display mime types."""
    out = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            seen: list[str] = []
            for o in cell.get("outputs", []):
                found = [o.name] if o.output_type == "stream" else sorted(o.get("data", {}))
                seen += [k for k in found if k not in seen]
            out.append(seen)
    return out


@pytest.fixture(scope="module")
def executed() -> dict[str, tuple[Any, Any]]:
    """Each notebook as committed and as run again now (the kernels run side by side)."""
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    committed = {p.stem: nbformat.read(p, as_version=4) for p in NOTEBOOKS}
    fresh = {p.stem: nbformat.read(p, as_version=4) for p in NOTEBOOKS}
    clients = [
        NotebookClient(
            fresh[p.stem],
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(p.parent)}},
        )
        for p in NOTEBOOKS
    ]

    async def run_all() -> None:
        await asyncio.gather(*(c.async_execute() for c in clients))

    asyncio.run(run_all())
    return {name: (committed[name], fresh[name]) for name in committed}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_as_committed(path: Path, executed: dict[str, tuple[Any, Any]]) -> None:
    committed, fresh = executed[path.stem]
    errors = [o for c in fresh.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    assert kinds(fresh) == kinds(committed), "re-run the notebook and commit its outputs"
    assert any("image/png" in k or "text/html" in k for k in kinds(committed))


def test_the_five_notebooks_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        "01-quickstart",
        "02-gallery",
        "03-build-your-own",
        "04-timing-sweeps",
        "05-explore",
    ]
