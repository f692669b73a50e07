"""The product portfolio: products, releases with their SBOMs archived with provenance, and continuous
matching of every release against the knowledge base (full, or only what an import changed).

>>> add_product(store, "router")
>>> stored = store_sbom(store, "router", "2.1", Path("router-2.1.cdx.json"))
>>> match_release(store, stored.sbom_id, stored.previous_sbom_id)
>>> rematch(store, changed_only=True)   # after `mamori db import …`
"""

from mamori.portfolio.archive import StoredSbom, add_product, original_bytes, store_sbom
from mamori.portfolio.rematch import RunSummary, match_release, rematch

__all__ = [
    "RunSummary",
    "StoredSbom",
    "add_product",
    "match_release",
    "original_bytes",
    "rematch",
    "store_sbom",
]
