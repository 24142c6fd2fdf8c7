"""Suite-wide ordering for ``-n`` (``--dist loadfile``: each file runs on one worker, so a
module's or session's fixture runs once). Two files share one expensive fixture among
all their tests: the Wine cross-checks run Wine for every scenario file, the notebooks
run every notebook in its own kernel. Handing them out first lets one worker run them
while the other works through the rest, instead of a worker starting one of them when
the rest is nearly done."""

from __future__ import annotations

import pytest

#: Files whose tests share one long fixture, longest first.
FIRST = ("test_crosscheck_wine.py", "test_notebooks.py")


def _rank(item: pytest.Item) -> int:
    name = item.path.name
    return FIRST.index(name) if name in FIRST else len(FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: the order within each file is kept
