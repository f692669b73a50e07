"""The one list of routers the application includes, in order: the sign-in pages, the native API
(``/api/mamori/v1``), the Dependency-Track-compatible endpoints (``/api/v1``), the web pages (portfolio,
products, releases, findings, triage, vulnerabilities) and the administration pages. Each module is
imported when the application is made, not when the command line starts.
"""

from __future__ import annotations

import importlib
from typing import Any

ROUTERS: tuple[str, ...] = (
    "mamori.server.auth",
    "mamori.server.api",
    "mamori.server.api_products",
    "mamori.server.api_findings",
    "mamori.server.api_vulns",
    "mamori.server.api_triage",
    "mamori.server.api_uploads",
    "mamori.server.api_compliance",
    "mamori.server.api_notify",
    "mamori.server.api_psirt",
    "mamori.server.api_inventory",
    "mamori.server.api_suppliers",
    "mamori.server.dtrack",
    "mamori.server.csaf_provider",
    "mamori.server.web_pages",
    "mamori.server.web_compliance",
    "mamori.server.web_notify",
    "mamori.server.web_inventory",
    "mamori.server.web_suppliers",
    "mamori.server.web_psirt",
    "mamori.server.web_admin",
)


def routers() -> list[Any]:
    """The routers to include, in order (each module's ``router``)."""
    return [importlib.import_module(name).router for name in ROUTERS]
