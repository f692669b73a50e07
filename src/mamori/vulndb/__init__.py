"""Vulnerability knowledge base importers: OSV, NVD 2.0, CVE 5, JVN (MyJVN), KEV, EPSS, purl2cpe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.lazy import lazy_exports

if TYPE_CHECKING:
    from mamori.vulndb.detect import SOURCES, VULNERABILITY_SOURCES, Parsed, parse_blob
    from mamori.vulndb.importer import ImportSummary, Progress, import_blobs, import_path
    from mamori.vulndb.sources import Blob, open_input

# imported on first use: a scan reads constants of mamori.vulndb.coverage and needs no importer
_HOME = {
    "SOURCES": "detect",
    "VULNERABILITY_SOURCES": "detect",
    "Parsed": "detect",
    "parse_blob": "detect",
    "ImportSummary": "importer",
    "Progress": "importer",
    "import_blobs": "importer",
    "import_path": "importer",
    "Blob": "sources",
    "open_input": "sources",
}


__getattr__ = lazy_exports(__name__, _HOME)

__all__ = [
    "SOURCES",
    "VULNERABILITY_SOURCES",
    "Blob",
    "ImportSummary",
    "Parsed",
    "Progress",
    "import_blobs",
    "import_path",
    "open_input",
    "parse_blob",
]
