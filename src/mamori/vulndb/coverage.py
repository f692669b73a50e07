"""What an import says about completeness, and the scope each record belongs to.

A knowledge base can only vouch for what it holds whole. Coverage is kept per *source* and *scope*:

- an OSV record's scopes are the ecosystems it names (base name: ``Debian:12`` → ``Debian``);
- NVD, CVE 5 and JVN records are keyed by CPE: their one scope is :data:`CPE_SCOPE`.

A scope is *complete* when a whole feed of it was imported: an OSV ecosystem export (``all.zip``)
or its sync, an NVD or JVN sync, or an import the user declared complete. Loose records imported from
files make a scope *partial* only, and never take completeness away from a scope a feed made complete.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamori.store.documents import Outline, Prepared
from mamori.vulndb.names import split_ecosystem

CPE_SCOPE = "cpe"
CPE_SOURCES = ("nvd", "cve5", "jvn")


@dataclass(frozen=True, slots=True)
class CoverageClaim:
    """An import's word that it holds ``source`` whole for ``scopes`` (``None``: every scope its
    records carry). ``scopes`` may name scopes with no record (an ecosystem export that is empty)."""

    source: str
    scopes: tuple[str, ...] | None = None


def record_scopes(source: str, item: object) -> set[str]:
    """The scopes one imported vulnerability record (parsed, or prepared by a worker) belongs to."""
    if source in CPE_SOURCES:
        return {CPE_SCOPE}
    record = item.vulnerability if isinstance(item, Prepared) else item
    if isinstance(record, Outline):
        return {row["ecosystem"] for row in record.package_rows if row.get("origin") == "package"}
    packages = getattr(record, "affected_packages", None) or []
    return {split_ecosystem(p.ecosystem)[0] for p in packages if p.ecosystem and p.name}
