"""Compliance: the source texts as catalogs (guideline, SSDF, checklist, JC-STAR ☆1 ...) and self-assessment."""

from mamori.compliance.catalog import Catalog, Item, find, frameworks, load

__all__ = ["Catalog", "Item", "find", "frameworks", "load"]
