"""A merged vulnerability record → the :class:`VulnerabilityInfo` reports show.

Severity: one CVSS vector is shown. Preference: CVSS 3.1, then 3.0, then 4.0, then 2.0 (3.x is what
NVD, JVN and most CNAs publish, so ratings stay comparable across findings); within a version NVD's
primary score first, then the CNA's (CVE 5), then CISA ADP, then OSV/GHSA, then JVN. Vectors the
``cvss`` package could not score are skipped. No usable vector → rating ``unknown``.
"""

from __future__ import annotations

from mamori.model.vulnerability import Epss, Kev, Severity, Vulnerability
from mamori.scan.result import EpssInfo, KevInfo, ReferenceInfo, SeverityInfo, VulnerabilityInfo

_VERSION_ORDER = {"3.1": 0, "3.0": 1, "4.0": 2, "2.0": 3}
_MAX_REFERENCES = 20


def _provider_rank(s: Severity) -> int:
    if s.source == "nvd":
        return 0 if (s.kind or "Primary") == "Primary" else 2
    if s.source == "cve5":
        return 3 if (s.provider or "").upper() == "CISA-ADP" else 1
    return {"osv": 4, "jvn": 5}.get(s.source, 6)


def choose_severity(severities: list[Severity]) -> SeverityInfo | None:
    usable = [s for s in severities if s.score is not None and s.rating]
    if not usable:
        return None
    best = min(usable, key=lambda s: (_VERSION_ORDER.get(s.version, 9), _provider_rank(s)))
    return SeverityInfo(
        version=best.version,
        vector=best.vector,
        score=best.score,
        rating=str(best.rating).lower(),
        source=best.source,
        provider=best.provider,
    )


def _kev(records: list[Vulnerability], catalog: dict[str, Kev]) -> KevInfo | None:
    for record in records:
        for cve in record.cve_ids():
            if cve in catalog:
                k = catalog[cve]
                return KevInfo(k.cve_id, k.date_added, k.due_date, k.known_ransomware_use, k.source)
    for record in records:
        for k in record.kev:
            return KevInfo(k.cve_id, k.date_added, k.due_date, k.known_ransomware_use, k.source)
    return None


def _epss(records: list[Vulnerability], scores: dict[str, Epss]) -> EpssInfo | None:
    found = [scores[c] for r in records for c in r.cve_ids() if c in scores]
    if not found:
        return None
    best = max(found, key=lambda e: e.score)
    return EpssInfo(best.cve_id, best.score, best.percentile, best.date)


def vulnerability_info(
    records: list[Vulnerability], kev: dict[str, Kev], epss: dict[str, Epss]
) -> VulnerabilityInfo:
    """The first record is the finding's own; the others were folded into it (they name it)."""
    main = records[0]
    ids: list[str] = []
    for record in records:
        for identifier in record.all_ids():
            if identifier not in ids:
                ids.append(identifier)
    sources = sorted({s for r in records for s in r.source_names})
    info = VulnerabilityInfo(
        id=main.id,
        aliases=sorted(set(ids) - {main.id}),
        titles=dict(main.titles),
        summaries=dict(main.summaries),
        severity=choose_severity([s for r in records for s in r.severities]),
        cwes=sorted({c for r in records for c in r.cwes}),
        published=main.published,
        modified=main.modified,
    )
    for record in records[1:]:
        for lang, text in record.titles.items():
            info.titles.setdefault(lang, text)
        for lang, text in record.summaries.items():
            info.summaries.setdefault(lang, text)
    info.kev = _kev(records, kev)
    info.epss = _epss(records, epss)
    if info.kev is not None and "kev" not in sources:
        sources.append("kev")
    if info.epss is not None:
        sources.append("epss")
    info.sources = sources
    seen: set[str] = set()
    for record in records:
        for ref in record.references:
            if ref.url not in seen and len(info.references) < _MAX_REFERENCES:
                seen.add(ref.url)
                info.references.append(ReferenceInfo(ref.url, ref.type))
    return info
