"""The one list of routers the application includes: (module, attribute, required).

A router whose module is not there (``required`` False) is left out: the Dependency-Track-compatible
endpoints (``mamori.server.dtrack``) are included when that module exists.
"""

from __future__ import annotations

import importlib
from typing import Any

ROUTERS: tuple[tuple[str, str, bool], ...] = (
    ("mamori.server.auth", "router", True),
    ("mamori.server.api", "router", True),
    ("mamori.server.dtrack", "router", False),
)


def routers() -> list[Any]:
    """The routers to include, in order."""
    found = []
    for module_name, attribute, required in ROUTERS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if required or exc.name != module_name:
                raise
            continue
        found.append(getattr(module, attribute))
    return found
