"""What a scan found, in memory: the type every report (JSON, table, SARIF, CycloneDX VDR, CSV, XLSX,
HTML) is rendered from.

A :class:`ScanResult` holds one :class:`Finding` per (component, vulnerability): the vulnerability
merged across sources and aliases (CVE ↔ GHSA ↔ PYSEC ↔ GO ↔ JVNDB …) with every id and source,
the chosen CVSS severity, KEV and EPSS, and the evidence of each way it matched, best first.
Components that could not be evaluated (no complete feed of their ecosystem in the knowledge base, no
version, unknown ecosystem, a version or a record the rules cannot compare) are listed in
:attr:`ScanResult.not_evaluated` with the reason, as a code (:mod:`mamori.match.reasons`) and in
words — they are never counted as safe. :attr:`ScanResult.coverage` says what the knowledge base
could vouch for: per scope the scan used, complete or partial, the feed's source, date, age and
origin, and the store's newest data; :meth:`ScanResult.problems` says why the result cannot be
judged (empty store, stale feed, components not evaluated), which ``mamori scan`` exits 3 on.

Match methods and confidences (see :mod:`mamori.scan.finding`):

========================  ==========  ======================================================
method                    confidence  meaning
========================  ==========  ======================================================
``purl-range``            high        ecosystem + name equal, version inside a range under
                                      the ecosystem's own version rules
``purl-version-list``     high        version listed in the record's enumerated versions
``cpe-config``            medium      a CPE the SBOM declares matches an NVD configuration
                                      or a CVE 5 product's CPE and version range
``purl2cpe``              low         CPE vendor:product derived from the purl through a
                                      strong purl2cpe link, then matched as ``cpe-config``
``purl2cpe-weak``         weak        the same through a weak link (the CPE product does not
                                      plausibly name the package); only with
                                      ``mamori scan --purl2cpe-weak`` (docs/purl2cpe.md)
========================  ==========  ======================================================

Ratings are the CVSS qualitative ratings in lower case, plus ``unknown`` when no CVSS vector is
known for the vulnerability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mamori.model.sbom import Occurrence, ReadWarning
from mamori.scan.messages import text

RATINGS = ("critical", "high", "medium", "low", "none", "unknown")
RATING_ORDER = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
FAIL_ON = ("low", "medium", "high", "critical", "kev")
STATUSES = ("open", "under_investigation", "affected", "not_affected", "fixed")  # mamori.triage.state
OUT_OF_GATE = frozenset({"not_affected", "fixed"})


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

    method: str  # purl-range | purl-version-list | cpe-config | purl2cpe | purl2cpe-weak
    confidence: str  # high | medium | low | weak
    detail: str
    source: str  # osv | nvd | cve5 | jvn
    record_id: str
    fixed: str | None = None  # first fixed version above the installed one on the matching branch


@dataclass(slots=True)
class SeverityInfo:
    """A finding's CVSS vector, score and rating, and who gave them."""

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
    """A finding's EPSS score and percentile."""

    cve_id: str
    score: float
    percentile: float
    date: str | None = None


@dataclass(slots=True)
class ReferenceInfo:
    """A link of a finding's vulnerability."""

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
    # priority score within its outcome, the newest VEX statement that applies ({status, justification,
    # ...}) and the finding's one triage state (mamori.triage.state.FindingState: the user's records, then
    # VEX; ``status``, ``origin``, ``as_dict(lang)``).
    ssvc: Any = None
    priority_score: float | None = None
    vex: dict[str, Any] | None = None
    state: Any = None

    @property
    def status(self) -> str:
        """The triage status: open (nothing said), under_investigation, affected, not_affected or fixed."""
        if self.state is not None:
            return str(self.state.status)
        return str(self.vex.get("status")) if self.vex else "open"

    @property
    def out_of_gate(self) -> bool:
        """A triage record or VEX statement says not_affected or fixed: the finding stays in reports but
        trips no gate."""
        return self.status in OUT_OF_GATE

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
    """A component (or one record for it) that could not be evaluated, and why: ``code`` (see
    :mod:`mamori.match.reasons`), ``values`` the words are filled with, ``reason`` in English."""

    component: ComponentRef
    reason: str
    vulnerability_id: str | None = None
    code: str = "cannot-compare"
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        """The reason in ``lang`` (en or ja)."""
        return reason_text(self.code, self.values or {"detail": self.reason}, lang)


def scope_label(scope: str, lang: str = "en") -> str:
    """An ecosystem as named, ``cpe`` as the CPE-keyed feeds (NVD, JVN, CVE 5)."""
    return text(lang, "coverage", "cpe_scope") if scope == "cpe" else scope


def reason_text(code: str, values: dict[str, Any], lang: str = "en") -> str:
    """The words for a reason code (data/scan/messages.yaml ``reasons``) in ``lang``."""
    if code == "coverage":
        records = int(values.get("records") or 0)
        key = "coverage" if records else "coverage_none"
        return text(lang, "reasons", key, scope=scope_label(str(values.get("scope")), lang), records=records)
    if code == "no-identifier" and values.get("no_version"):
        code = "no-identifier-version"
    try:
        return text(lang, "reasons", code, **{k: v for k, v in values.items()})
    except KeyError:
        return str(values.get("detail") or code)


@dataclass(slots=True)
class ScopeCoverage:
    """One scope (an OSV ecosystem, or ``cpe``) a scan looked components up in.

    ``complete``: some source holds it whole; then ``source``, ``complete_at`` (when that feed was
    imported), ``age_days`` at scan time and ``origin`` tell the freshest such feed. ``records``: the
    vulnerabilities indexed under it, all sources; ``components``: this scan's components looked up in
    it; ``not_evaluated``: of those, the ones not evaluated for want of a complete feed; ``stale``: the
    feed is older than the scan's ``--max-age``."""

    scope: str
    complete: bool
    records: int = 0
    sources: list[str] = field(default_factory=list)
    source: str | None = None
    complete_at: str | None = None
    age_days: float | None = None
    origin: str | None = None
    components: int = 0
    not_evaluated: int = 0
    stale: bool = False

    def label(self, lang: str = "en") -> str:
        return scope_label(self.scope, lang)


@dataclass(slots=True)
class Coverage:
    """What the knowledge base could vouch for in one scan (see :class:`ScopeCoverage`).

    ``empty``: the store holds no vulnerability record at all; ``updated``: its newest import;
    ``newest_record``: the newest modification date among its records; ``max_age_days``: the age a
    complete feed may reach before the scan calls it stale (None: not checked)."""

    scopes: list[ScopeCoverage] = field(default_factory=list)
    empty: bool = False
    updated: str | None = None
    newest_record: str | None = None
    max_age_days: float | None = None

    @property
    def stale(self) -> list[ScopeCoverage]:
        return [s for s in self.scopes if s.stale]


@dataclass(slots=True)
class Problem:
    """Why a scan's result cannot be judged: ``empty`` store, ``stale`` feed, ``not-evaluated``."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        v = self.values
        if self.code == "stale":
            return text(
                lang,
                "problems",
                "stale",
                scope=scope_label(str(v["scope"]), lang),
                source=v["source"],
                age=age_text(float(v["age_days"]), lang),
                max_age=age_text(float(v["max_age_days"]), lang),
            )
        if self.code == "not-evaluated":
            why = ", ".join(f"{code} {n}" for code, n in v["reasons"].items())
            return text(lang, "problems", "not_evaluated", count=v["count"], total=v["total"], reasons=why)
        return text(lang, "problems", self.code, **v)


def age_text(days: float, lang: str = "en") -> str:
    """An age in days as people say it: hours under two days, else whole days."""
    if days < 2:
        return text(lang, "coverage", "hours", count=max(0, round(days * 24)))
    return text(lang, "coverage", "days", count=int(days))


@dataclass(slots=True)
class SourceInfo:
    """A knowledge-base source used by the scan: its record count and last update."""

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
    coverage: Coverage = field(default_factory=Coverage)
    # Set by mamori.triage.integrate: the product release the findings were triaged for, where the triage
    # context came from and, when context points had to be assumed, the notice to show first.
    triage: dict[str, Any] | None = None
    # flaws in single fields of the SBOM that the lenient read went past (mamori.sbom.problems)
    warnings: list[ReadWarning] = field(default_factory=list)
    # the folder occurrence locations are relative to: the scanned folder, the lockfile's or the SBOM's
    # folder ("" when the target is no file, e.g. an archived SBOM)
    root: str = ""
    # Set by mamori.scan.filters: what --severity and --ignore-unfixed hid, and how many (None: no filter)
    filters: dict[str, Any] | None = None

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

    def not_evaluated_by_reason(self) -> dict[str, int]:
        """Components not evaluated per reason code (a component counts once per code), most first."""
        seen: dict[str, set[tuple[str | None, ...]]] = {}
        for n in self.not_evaluated:
            seen.setdefault(n.code, set()).add(_identity(n.component))
        return dict(sorted(((c, len(ids)) for c, ids in seen.items()), key=lambda x: (-x[1], x[0])))

    def problems(self) -> list[Problem]:
        """Why this result cannot be judged: the store is empty, a complete feed it used is older
        than the maximum age, or components were not evaluated. Empty: the result is whole."""
        found: list[Problem] = []
        cov = self.coverage
        if cov.empty:
            found.append(Problem("empty"))
        for s in cov.stale:
            found.append(
                Problem(
                    "stale",
                    {
                        "scope": s.scope,
                        "source": s.source,
                        "age_days": s.age_days,
                        "max_age_days": cov.max_age_days,
                    },
                )
            )
        count = self.components_not_evaluated()
        if count:
            found.append(
                Problem(
                    "not-evaluated",
                    {"count": count, "total": self.components, "reasons": self.not_evaluated_by_reason()},
                )
            )
        return found

    @property
    def partial(self) -> bool:
        return bool(self.problems())

    def by_status(self) -> dict[str, int]:
        """Findings per triage status (every status listed)."""
        counts = dict.fromkeys(STATUSES, 0)
        for finding in self.findings:
            counts[finding.status] = counts.get(finding.status, 0) + 1
        return counts


def _identity(component: ComponentRef) -> tuple[str | None, ...]:
    return (component.bom_ref, component.purl, component.name, component.version)
