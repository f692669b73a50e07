"""Package attributes imported on first use (PEP 562), so that importing a package for one of its modules
does not load all the others: ``__getattr__ = lazy_exports(__name__, {"name": "module", ...})``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that finds each name in its module ``package.<homes[name]>``."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{home}"), name)

    return __getattr__
