"""What a scan found, in memory: the type every report (JSON, table, SARIF, CycloneDX VDR, CSV, XLSX,
HTML) is rendered from.

A :class:`ScanResult` holds one :class:`Finding` per (component, vulnerability): the vulnerability
merged across sources and aliases (CVE ↔ GHSA ↔ PYSEC ↔ GO ↔ JVNDB …) with every id and source,
the chosen CVSS severity, KEV and EPSS, and the evidence of each way it matched, best first.
Components that could not be evaluated (no version, unknown ecosystem, a version or a record the
rules cannot compare) are listed in :attr:`ScanResult.not_evaluated` with the reason — they are
never counted as safe.

Match methods and confidences (see :mod:`mamori.match.finding`):

========================  ==========  ======================================================
method                    confidence  meaning
========================  ==========  ======================================================
``purl-range``            high        ecosystem + name equal, version inside a range under
                                      the ecosystem's own version rules
``purl-version-list``     high        version listed in the record's enumerated versions
``cpe-config``            medium      a CPE the SBOM declares matches an NVD configuration
                                      or a CVE 5 product's CPE and version range
``purl2cpe``              low         CPE vendor:product derived from the purl through the
                                      purl2cpe table, then matched as ``cpe-config``
========================  ==========  ======================================================

Ratings are the CVSS qualitative ratings in lower case, plus ``unknown`` when no CVSS vector is
known for the vulnerability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mamori.model.sbom import Occurrence, ReadWarning

RATINGS = ("critical", "high", "medium", "low", "none", "unknown")
RATING_ORDER = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
FAIL_ON = ("low", "medium", "high", "critical", "kev")


@dataclass(slots=True)
class ComponentRef:
    """The SBOM component a finding is about."""

    name: str
    version: str | None = None
    purl: str | None = None
    cpe: str | None = None
    bom_ref: str | None = None
    group: str | None = None
    # where the component is declared (a lockfile or manifest and its line), when known
    occurrences: list[Occurrence] = field(default_factory=list)

    @property
    def label(self) -> str:
        name = f"{self.group}/{self.name}" if self.group and not self.purl else self.name
        return f"{name}@{self.version}" if self.version else name


@dataclass(slots=True)
class Evidence:
    """One way a finding matched: method, confidence, the bounds or list that matched, the record."""

    method: str  # purl-range | purl-version-list | cpe-config | purl2cpe
    confidence: str  # high | medium | low
    detail: str
    source: str  # osv | nvd | cve5 | jvn
    record_id: str
    fixed: str | None = None  # first fixed version above the installed one on the matching branch


@dataclass(slots=True)
class SeverityInfo:
    version: str  # CVSS version: 2.0 | 3.0 | 3.1 | 4.0
    vector: str
    score: float | None
    rating: str  # critical | high | medium | low | none
    source: str = ""
    provider: str | None = None


@dataclass(slots=True)
class KevInfo:
    """CISA KEV: the catalog's entry, else what a record itself says (CISA ADP, NVD)."""

    cve_id: str
    date_added: str | None = None
    due_date: str | None = None
    known_ransomware_use: str | None = None
    source: str = "kev"


@dataclass(slots=True)
class EpssInfo:
    cve_id: str
    score: float
    percentile: float
    date: str | None = None


@dataclass(slots=True)
class ReferenceInfo:
    url: str
    type: str = "WEB"


@dataclass(slots=True)
class VulnerabilityInfo:
    """A vulnerability merged across sources, reduced to what reports show."""

    id: str
    aliases: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # osv, nvd, cve5, jvn, kev, epss
    titles: dict[str, str] = field(default_factory=dict)  # en / ja
    summaries: dict[str, str] = field(default_factory=dict)
    severity: SeverityInfo | None = None
    cwes: list[str] = field(default_factory=list)
    kev: KevInfo | None = None
    epss: EpssInfo | None = None
    references: list[ReferenceInfo] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None

    @property
    def rating(self) -> str:
        return self.severity.rating if self.severity is not None else "unknown"

    @property
    def score(self) -> float | None:
        return self.severity.score if self.severity is not None else None

    def summary(self, lang: str = "en") -> str | None:
        """The summary in ``lang`` when a source gave one, else in the other language, else the title."""
        other = "ja" if lang == "en" else "en"
        for texts in (self.summaries, self.titles):
            for key in (lang, other):
                if texts.get(key):
                    return texts[key]
        return None


@dataclass(slots=True)
class Finding:
    """One vulnerability in one component, with every id, source and piece of evidence."""

    component: ComponentRef
    vulnerability: VulnerabilityInfo
    evidence: list[Evidence] = field(default_factory=list)  # best first
    fixed_versions: list[str] = field(default_factory=list)  # above the installed version, nearest first
    # Set by mamori.triage.integrate: the SSVC assessment (``ssvc_dict(lang)``, ``path_text(lang)``), the
    # priority score within its outcome, and the VEX statement that applies ({status, justification, ...}).
    ssvc: Any = None
    priority_score: float | None = None
    vex: dict[str, Any] | None = None

    @property
    def out_of_gate(self) -> bool:
        """A VEX statement says not_affected or fixed: the finding stays in reports but trips no gate."""
        return self.vex is not None and self.vex.get("status") in ("not_affected", "fixed")

    @property
    def match(self) -> Evidence:
        return self.evidence[0]

    @property
    def nearest_fixed(self) -> str | None:
        return self.fixed_versions[0] if self.fixed_versions else None

    def reaches(self, threshold: str) -> bool:
        """Whether this finding trips ``--fail-on threshold`` (low … critical, or kev).

        A finding with no CVSS (rating ``unknown``) reaches no severity threshold; KEV is its own gate.
        """
        if self.out_of_gate:
            return False
        if threshold == "kev":
            return self.vulnerability.kev is not None
        rating = self.vulnerability.rating
        return rating in RATING_ORDER and RATING_ORDER[rating] >= RATING_ORDER[threshold]


@dataclass(slots=True)
class NotEvaluated:
    """A component (or one record for it) that could not be evaluated, and why."""

    component: ComponentRef
    reason: str
    vulnerability_id: str | None = None


@dataclass(slots=True)
class SourceInfo:
    records: int
    updated: str | None = None


@dataclass(slots=True)
class ScanResult:
    """Everything a report needs; build it with :func:`mamori.scan.run.scan_document`."""

    target: str
    sbom_format: str
    components: int
    sources: dict[str, SourceInfo] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    not_evaluated: list[NotEvaluated] = field(default_factory=list)
    generated_at: str = ""
    database: str = ""
    demo: bool = False  # the knowledge base is the bundled demonstration set
    # flaws in single fields of the SBOM that the lenient read went past (mamori.sbom.problems)
    warnings: list[ReadWarning] = field(default_factory=list)
    # the folder occurrence locations are relative to: the scanned folder, the lockfile's or the SBOM's
    # folder ("" when the target is no file, e.g. an archived SBOM)
    root: str = ""

    def by_rating(self) -> dict[str, int]:
        counts = dict.fromkeys(RATINGS, 0)
        for finding in self.findings:
            counts[finding.vulnerability.rating] += 1
        return counts

    def components_affected(self) -> int:
        return len({_identity(f.component) for f in self.findings})

    def components_not_evaluated(self) -> int:
        return len({_identity(n.component) for n in self.not_evaluated})

    def reaches(self, threshold: str) -> bool:
        return any(f.reaches(threshold) for f in self.findings)


def _identity(component: ComponentRef) -> tuple[str | None, ...]:
    return (component.bom_ref, component.purl, component.name, component.version)
