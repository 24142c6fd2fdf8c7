"""Package attributes imported on first use (PEP 562), so importing a package costs
nothing until one of its names is used: the command line starts quickly."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from importlib import import_module
from types import ModuleType
from typing import Any


def exports(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose public names live in the
    submodules ``where`` maps them to."""

    def getattr_(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(import_module(package), name, value)
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(import_module(package))) | set(where))

    return getattr_, dir_


def keep_public_names(package: str, names: Collection[str]) -> None:
    """Importing a submodule binds its name in its package: where ``package`` exports a
    function of that name (``simnotify.sweep``, ``simnotify.scenario.build``), the function
    stays, as it would had the package imported it eagerly."""

    class _Package(ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if name in names and isinstance(value, ModuleType):
                return
            super().__setattr__(name, value)

    sys.modules[package].__class__ = _Package
