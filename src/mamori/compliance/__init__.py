"""Compliance: the source texts as catalogs (guideline, SSDF, checklist, JC-STAR ☆1 ...) and self-assessment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mamori.compliance.catalog import Catalog, Item, find, frameworks, load

__all__ = ["Catalog", "Item", "find", "frameworks", "load"]


def __getattr__(name: str) -> Any:
    """The catalog API, imported on first use (keeps ``mamori --help`` from loading YAML)."""
    if name in __all__:
        from mamori.compliance import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
