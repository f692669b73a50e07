"""Package attributes imported on first use (PEP 562), so that importing a package for one of its modules
does not load all the others: ``__getattr__ = lazy_exports(__name__, {"name": "module", ...})``."""

from __future__ import annotations

import importlib
import sys
import types
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

    owner = sys.modules.get(package)
    if owner is not None and type(owner) is types.ModuleType:
        owner.__class__ = _functions_over_modules(package, homes)
    return __getattr__


def _functions_over_modules(package: str, homes: dict[str, str]) -> type[types.ModuleType]:
    """The package's module class: when a submodule is imported directly (``import
    mamori.portfolio.rematch``), the import system binds the package attribute of its name to the module,
    where ``__getattr__`` above would never be asked again; a name exported from its namesake module gets
    the exported object instead (``from mamori.portfolio import rematch`` is always the function)."""
    namesakes = {name for name, home in homes.items() if name == home}

    class _Package(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if (
                name in namesakes
                and isinstance(value, types.ModuleType)
                and value.__name__ == f"{package}.{name}"
                and hasattr(value, name)
            ):
                value = getattr(value, name)
            super().__setattr__(name, value)

    return _Package
