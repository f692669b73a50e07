"""What is known about one vulnerability for triage, whatever it came from.

:class:`Facts` gathers the CVSS base vector, KEV, EPSS, CISA ADP SSVC points and exploit-tagged
references of one vulnerability, built from a stored :class:`~mamori.model.vulnerability.Vulnerability`
(:func:`from_vulnerability`), from a scan finding (:func:`from_scan_finding`) or from the JSON a scan
wrote (:func:`from_scan_json`). No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mamori.model.references import normalise_tag
from mamori.model.vulnerability import Reference, Severity, Vulnerability

if TYPE_CHECKING:
    from mamori.scan.result import Finding

# A reference counts as exploit evidence when one of its tags is "exploit" (CVE 5, NVD) or its OSV
# type is EVIDENCE (OSV: "a proof of concept or similar").
EXPLOIT_TAGS = frozenset({"exploit"})
EXPLOIT_TYPES = frozenset({"EVIDENCE"})


@dataclass(frozen=True, slots=True)
class Cvss:
    """A CVSS vector and score as a triage fact."""

    version: str  # 2.0 | 3.0 | 3.1 | 4.0
    vector: str
    score: float | None
    rating: str | None = None
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class KevFact:
    """A CVE known to be exploited, and where that is said."""

    cve_id: str
    source: str = "kev"  # kev (the catalog) | cve5 (CISA ADP) | nvd (cisaExploitAdd)
    date_added: str | None = None


@dataclass(frozen=True, slots=True)
class EpssFact:
    """An EPSS score as a triage fact."""

    cve_id: str
    score: float
    percentile: float | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class AdpSsvc:
    """CISA ADP's SSVC decision points in a CVE 5 record (values as CISA writes them, lower case)."""

    exploitation: str | None
    automatable: str | None
    technical_impact: str | None
    provider: str | None = None
    version: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything triage may use about one vulnerability."""

    vuln_id: str
    aliases: tuple[str, ...] = ()
    cvss: Cvss | None = None
    kev: KevFact | None = None
    epss: EpssFact | None = None
    adp: AdpSsvc | None = None
    exploit_refs: tuple[str, ...] = ()
    kev_checked: bool = False  # a KEV catalog was consulted: absence from it means something
    summary: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.vuln_id, *self.aliases)


def choose_cvss(severities: Iterable[Severity]) -> Cvss | None:
    """The vector a scan report shows (same preference: :func:`mamori.scan.describe.choose_severity`)."""
    from mamori.scan.describe import choose_severity

    best = choose_severity(list(severities))
    if best is None:
        return None
    return Cvss(best.version, best.vector, best.score, best.rating, best.provider)


def exploit_references(refs: Iterable[Reference]) -> tuple[str, ...]:
    out: list[str] = []
    for ref in refs:
        exploit = ref.type in EXPLOIT_TYPES or any(normalise_tag(t) in EXPLOIT_TAGS for t in ref.tags)
        if exploit and ref.url not in out:
            out.append(ref.url)
    return tuple(out)


def _adp(v: Vulnerability) -> AdpSsvc | None:
    """The newest CISA ADP decision (records normally carry one)."""
    found = [s for s in v.ssvc if s.exploitation or s.automatable or s.technical_impact]
    if not found:
        return None
    s = max(found, key=lambda x: x.timestamp or "")
    return AdpSsvc(s.exploitation, s.automatable, s.technical_impact, s.provider, s.version, s.timestamp)


def from_vulnerability(v: Vulnerability, *, kev_checked: bool = False) -> Facts:
    """Facts of a stored (merged) record; KEV: the catalog's entry before what a record itself says."""
    kev = None
    if v.kev:
        k = min(v.kev, key=lambda x: (x.source != "kev", x.source))
        kev = KevFact(k.cve_id, k.source, k.date_added)
    epss = None
    if v.epss:
        e = max(v.epss, key=lambda x: x.score)
        epss = EpssFact(e.cve_id, e.score, e.percentile, e.date)
    summary = v.summaries.get("en") or v.summaries.get("ja") or v.titles.get("en")
    return Facts(
        vuln_id=v.id,
        aliases=tuple(a for a in v.aliases if a != v.id),
        cvss=choose_cvss(v.severities),
        kev=kev,
        epss=epss,
        adp=_adp(v),
        exploit_refs=exploit_references(v.references),
        kev_checked=kev_checked,
        summary=summary,
    )


def from_scan_finding(
    finding: Finding, record: Vulnerability | None = None, *, kev_checked: bool = False
) -> Facts:
    """Facts of a scan finding; the full stored record, when given, adds CISA ADP points and reference tags."""
    info = finding.vulnerability
    cvss = None
    if info.severity is not None:
        s = info.severity
        cvss = Cvss(s.version, s.vector, s.score, s.rating, s.provider)
    kev = KevFact(info.kev.cve_id, info.kev.source, info.kev.date_added) if info.kev else None
    epss = (
        EpssFact(info.epss.cve_id, info.epss.score, info.epss.percentile, info.epss.date)
        if info.epss
        else None
    )
    refs = tuple(r.url for r in info.references if r.type in EXPLOIT_TYPES)
    adp = None
    if record is not None:
        adp = _adp(record)
        refs = tuple(dict.fromkeys((*refs, *exploit_references(record.references))))
    return Facts(
        vuln_id=info.id,
        aliases=tuple(info.aliases),
        cvss=cvss,
        kev=kev,
        epss=epss,
        adp=adp,
        exploit_refs=refs,
        kev_checked=kev_checked,
        summary=info.summary("en"),
    )


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def from_scan_json(vuln: Mapping[str, Any], *, kev_checked: bool = False) -> Facts:
    """Facts from one ``findings[].vulnerability`` object of ``mamori scan --format json``.

    Tolerant of the small shape differences a report may have: ``kev`` as an object or a boolean,
    ``epss`` as an object or a number, ``references`` as URLs or objects with ``type``/``tags``.
    """
    vid = str(vuln.get("id") or "")
    cve = next((i for i in (vid, *(vuln.get("aliases") or [])) if str(i).startswith("CVE-")), vid)
    sev = vuln.get("severity")
    cvss = None
    if isinstance(sev, Mapping) and isinstance(sev.get("vector"), str):
        cvss = Cvss(
            str(sev.get("version") or ""),
            sev["vector"],
            _float(sev.get("score")),
            str(sev.get("rating") or "").lower() or None,
        )
    kev_raw = vuln.get("kev")
    kev = None
    if isinstance(kev_raw, Mapping):
        kev = KevFact(
            str(kev_raw.get("cve_id") or cve), str(kev_raw.get("source") or "kev"), kev_raw.get("date_added")
        )
    elif kev_raw is True:
        kev = KevFact(cve)
    epss_raw = vuln.get("epss")
    epss = None
    if isinstance(epss_raw, Mapping) and _float(epss_raw.get("score")) is not None:
        epss = EpssFact(
            str(epss_raw.get("cve_id") or cve),
            float(epss_raw["score"]),
            _float(epss_raw.get("percentile")),
            epss_raw.get("date"),
        )
    elif _float(epss_raw) is not None:
        epss = EpssFact(cve, float(epss_raw))
    refs: list[Reference] = []
    for r in vuln.get("references") or []:
        if isinstance(r, str):
            refs.append(Reference(r))
        elif isinstance(r, Mapping) and isinstance(r.get("url"), str):
            refs.append(
                Reference(r["url"], str(r.get("type") or "WEB"), [str(t) for t in r.get("tags") or []])
            )
    adp_raw = vuln.get("adp_ssvc")
    adp = None
    if isinstance(adp_raw, Mapping):
        adp = AdpSsvc(
            adp_raw.get("exploitation"), adp_raw.get("automatable"), adp_raw.get("technical_impact")
        )
    summary = vuln.get("summary")
    return Facts(
        vuln_id=vid,
        aliases=tuple(str(a) for a in vuln.get("aliases") or [] if a != vid),
        cvss=cvss,
        kev=kev,
        epss=epss,
        adp=adp,
        exploit_refs=exploit_references(refs),
        kev_checked=kev_checked,
        summary=summary if isinstance(summary, str) else None,
    )
