"""Suite-wide ordering for ``-n``: the tests that share one expensive fixture form an
xdist group (the Wine cross-checks, which run Wine for every file; the notebooks, which
run every notebook in its own kernel). Each group goes to one worker, so its fixture runs
once; handing the groups out first lets one worker run them while the other works
through the rest, instead of a worker starting one when the rest is nearly done."""

from __future__ import annotations

import pytest


def _group(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("xdist_group")
    return str(marker.args[0]) if marker is not None and marker.args else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: _group(item) is None)  # stable: file order kept otherwise
