"""Vulnerability knowledge base importers: OSV, NVD 2.0, CVE 5, JVN (MyJVN), KEV, EPSS, purl2cpe."""

from mamori.vulndb.detect import SOURCES, VULNERABILITY_SOURCES, Parsed, parse_blob
from mamori.vulndb.importer import ImportSummary, Progress, import_blobs, import_path
from mamori.vulndb.sources import Blob, open_input

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
