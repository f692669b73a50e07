"""Package attributes imported on first use (PEP 562), so that importing a package for one of its modules
does not load all the others: ``__getattr__ = lazy_exports(__name__, {"name": "module", ...})``."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that finds each name in its module ``package.<homes[name]>``.

    Once a module is imported, every name it exports is bound on the package: importing a submodule binds
    the package attribute of its own name to the module, and a function named like its module
    (``mamori.portfolio.rematch``) must win over it, as it did with eager imports."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f"{package}.{home}")
        owner = sys.modules[package]
        for exported, where in homes.items():
            if where == home:
                setattr(owner, exported, getattr(module, exported))
        return getattr(module, name)

    return __getattr__
