"""The one list of routers the application includes: (module, attribute, required).

A router whose module is not there (``required`` False) is left out; every router listed here is
required: the sign-in pages, the native API (``/api/mamori/v1``) and the Dependency-Track-compatible
endpoints (``/api/v1``), the web pages
(portfolio, products, releases, findings, triage, vulnerabilities) and the administration pages.
"""

from __future__ import annotations

import importlib
from typing import Any

ROUTERS: tuple[tuple[str, str, bool], ...] = (
    ("mamori.server.auth", "router", True),
    ("mamori.server.api", "router", True),
    ("mamori.server.api_products", "router", True),
    ("mamori.server.api_findings", "router", True),
    ("mamori.server.api_vulns", "router", True),
    ("mamori.server.api_triage", "router", True),
    ("mamori.server.api_uploads", "router", True),
    ("mamori.server.dtrack", "router", True),
    ("mamori.server.web_pages", "router", True),
    ("mamori.server.web_admin", "router", True),
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
