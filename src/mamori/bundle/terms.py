"""An imported bundle checked against the terms agreed with its supplier (:mod:`mamori.contract`).

The delivery is what the bundle holds: its original SBOM (parsed), its VEX documents, the advisories of its
CSAF parts (for each vulnerability: when it became known — ``discovery_date``, else ``release_date`` — and
when the supplier told, the advisory's ``initial_release_date``), its first self-conformity declaration,
the date of delivery (the manifest's ``created_at`` when the bundle carries one, else the day of the import)
and the release date (the manifest's ``release_date``, which every bundle ``mamori bundle create`` writes
carries). The publication date of a new critical CVE (for the VEX timing term) is taken from the customer's
knowledge base: the earliest publication, on or after the release date, of a vulnerability the bundle's VEX
answers that is critical (a CVSS v3 or v4 base score of 9.0 or more); without one that clause comes out
``confirm``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from mamori.bundle.importer import read_parts
from mamori.bundle.verify import VerifiedBundle
from mamori.contract.check import Advisory, Delivery, Gap, check, counts, exit_code
from mamori.contract.terms import Terms
from mamori.errors import InputError
from mamori.store import Store

MAX_LOOKUPS = 5000  # vulnerabilities of the VEX looked up for the critical-CVE date


@dataclass(slots=True)
class BundleTerms:
    """The contract check of one bundle: ``results`` is None when the supplier has no agreed terms."""

    supplier: str
    results: list[Gap] | None
    files: list[str]

    @property
    def exit_code(self) -> int:
        return exit_code(self.results) if self.results is not None else 0

    def as_dict(self) -> dict[str, Any]:
        if self.results is None:
            return {"supplier": self.supplier, "terms": False, "counts": None, "results": []}
        return {
            "supplier": self.supplier,
            "terms": True,
            "counts": counts(self.results),
            "results": [r.to_dict() for r in self.results],
        }


def _date(value: Any) -> dt.date | None:
    """An ISO date or date-time (the date part); None for anything else."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _advisories(data: bytes) -> list[Advisory]:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(doc, dict):
        return []
    document = doc.get("document") if isinstance(doc.get("document"), dict) else {}
    tracking = document.get("tracking") if isinstance(document.get("tracking"), dict) else {}
    notified = _date(tracking.get("initial_release_date"))
    out = []
    for vuln in doc.get("vulnerabilities") or []:
        if not isinstance(vuln, dict):
            continue
        ident = vuln.get("cve") or next(
            (i.get("text") for i in vuln.get("ids") or [] if isinstance(i, dict) and i.get("text")),
            tracking.get("id"),
        )
        known = _date(vuln.get("discovery_date")) or _date(vuln.get("release_date"))
        out.append(Advisory(str(ident or "?")[:200], known, notified))
    return out


def delivery_of(verified: VerifiedBundle, imported_on: dt.date) -> Delivery:
    """The :class:`~mamori.contract.check.Delivery` a verified bundle makes (see the module)."""
    read = read_parts(verified)
    advisories = [
        a
        for p in verified.parts()
        if p.get("kind") == "csaf" and str(p.get("name")) in verified.members
        for a in _advisories(verified.members[str(p["name"])])
    ]
    manifest = verified.manifest
    return Delivery(
        sboms=[(read.sbom_name, read.sbom)],
        vex=[doc for _name, doc in read.vex],
        advisories=advisories,
        declaration=read.declarations[0][1] if read.declarations else None,
        delivered=_date(manifest.get("created_at")) or imported_on,
        release_date=_date(manifest.get("release_date")),
    )


def _critical(vulnerability: Any) -> bool:
    return any(
        s.method in ("CVSS_V3", "CVSS_V4")
        and (s.score if s.score is not None else s.source_score or 0) >= 9.0
        for s in vulnerability.severities
    )


def critical_published(delivery: Delivery, lookup: Callable[[str], Any]) -> dt.date | None:
    """The earliest publication date, on or after the release date, of a critical vulnerability (CVSS v3/v4
    base score 9.0 or more) the delivery's VEX answers, by ``lookup`` (an id → a store lookup or None)."""
    ids = sorted({s.vulnerability.id for v in delivery.vex for s in v.statements if s.vulnerability.id})
    dates = []
    for ident in ids[:MAX_LOOKUPS]:
        found = lookup(ident)
        if found is None or not _critical(found.vulnerability):
            continue
        day = _date(found.vulnerability.published)
        if day is not None and (delivery.release_date is None or day >= delivery.release_date):
            dates.append(day)
    return min(dates) if dates else None


def check_bundle(
    store: Store, verified: VerifiedBundle, imported_on: dt.date | None = None, terms: Terms | None = None
) -> BundleTerms:
    """The bundle checked against its supplier's agreed terms (``results`` None when there are none);
    ``terms``: those to check against (default: the store's terms with the bundle's supplier)."""
    from mamori.contract.store import get_terms, supplier_name

    files = [str(p.get("name")) for p in verified.parts()]
    try:
        supplier = supplier_name(verified.supplier)
    except InputError:  # a name no terms can be stored under
        return BundleTerms(verified.supplier.strip()[:200], None, files)
    if terms is None:
        terms = get_terms(store, supplier)
    if terms is None:
        return BundleTerms(supplier, None, files)
    day = imported_on or dt.datetime.now(dt.UTC).date()
    delivery = delivery_of(verified, day)
    delivery.critical_published = critical_published(delivery, store.lookup)
    return BundleTerms(supplier, check(terms, delivery), files)


__all__ = ["BundleTerms", "check_bundle", "critical_published", "delivery_of"]
