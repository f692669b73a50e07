"""What an import says about completeness, and the scope each record belongs to.

A knowledge base can only vouch for what it holds whole. Coverage is kept per *source* and *scope*:

- an OSV record's scopes are the ecosystems it names (base name: ``Debian:12`` → ``Debian``);
- NVD, CVE 5 and JVN records are keyed by CPE: their one scope is :data:`CPE_SCOPE`.

A scope is *complete* when a whole feed of it was imported: an OSV ecosystem export (``all.zip``)
or its sync, an NVD or JVN sync, or an import the user declared complete. Loose records imported from
files make a scope *partial* only, and never take completeness away from a scope a feed made complete.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from mamori.errors import InputError
from mamori.i18n import _
from mamori.model.names import split_ecosystem
from mamori.store.documents import Outline, Prepared

CPE_SCOPE = "cpe"
CPE_SOURCES = ("nvd", "cve5", "jvn")
FEED_SOURCES = ("osv", *CPE_SOURCES)  # the sources whose records have scopes (not kev, epss, purl2cpe)
OSV_EXPORT = "all.zip"  # OSV's per-ecosystem export: every record of the ecosystem


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


def import_claims(path: str, source: str | None, declared: bool) -> list[CoverageClaim]:
    """What ``mamori db import PATH`` claims: with ``--complete`` (``declared``), the input holds whole
    every scope its records carry (of ``source``, or of every feed source when it is detected); an
    OSV export named ``all.zip`` (a file or a URL) holds its ecosystems whole without saying so."""
    if declared:
        if source is not None and source not in FEED_SOURCES:
            raise InputError(
                None,
                _("--complete: {source} records have no coverage scope (only {feed_sources})").format(
                    source=source, feed_sources=", ".join(FEED_SOURCES)
                ),
            )
        return [CoverageClaim(s) for s in ((source,) if source else FEED_SOURCES)]
    name = PurePosixPath(urlsplit(path).path if "://" in path else path.replace("\\", "/")).name
    if name.lower() == OSV_EXPORT and source in (None, "osv"):
        return [CoverageClaim("osv")]
    return []


def claimed_by(rows: Iterable[dict[str, object]], origin: str) -> list[tuple[str, str]]:
    """(source, scope) of the coverage rows a whole feed from ``origin`` made complete."""
    return sorted(
        (str(r["source"]), str(r["scope"]))
        for r in rows
        if r["complete"] and r.get("complete_origin") == origin
    )


def age_days(when: str | None, now: datetime) -> float | None:
    """Days from ``when`` (an ISO date-time, UTC when it names no zone) to ``now``, never negative;
    None when missing or unreadable."""
    if not when:
        return None
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return round(max(0.0, (now - at).total_seconds() / 86400), 2)
