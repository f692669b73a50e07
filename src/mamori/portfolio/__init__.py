"""The product portfolio: products, releases with their SBOMs archived with provenance, and continuous
matching of every release against the knowledge base (full, or only what an import changed).

>>> add_product(store, "router")
>>> stored = store_sbom(store, "router", "2.1", Path("router-2.1.cdx.json"))
>>> match_release(store, stored.sbom_id, stored.previous_sbom_id)
>>> rematch(store, changed_only=True)   # after `mamori db import …`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.lazy import lazy_exports

if TYPE_CHECKING:
    from mamori.portfolio.archive import StoredSbom, add_product, original_bytes, store_sbom
    from mamori.portfolio.rematch import RunSummary, match_release, rematch

# imported on first use: `mamori scan` reads a release's triage records (mamori.portfolio.context) and
# needs neither the archive nor the re-matcher
_HOME = {
    "StoredSbom": "archive",
    "add_product": "archive",
    "original_bytes": "archive",
    "store_sbom": "archive",
    "RunSummary": "rematch",
    "match_release": "rematch",
    "rematch": "rematch",
}


__getattr__ = lazy_exports(__name__, _HOME)

__all__ = [
    "RunSummary",
    "StoredSbom",
    "add_product",
    "match_release",
    "original_bytes",
    "rematch",
    "store_sbom",
]
