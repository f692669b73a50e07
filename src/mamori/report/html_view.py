"""A :class:`ScanResult` reduced to plain values the HTML report template shows (no markup here).

Every text a person reads is a :data:`Bi` (``{"en": ..., "ja": ...}``); the template writes both
languages and the page shows one. Attacker-controlled text (names, summaries, details) stays plain
``str`` here and is escaped by the template engine.

Fields the triage step may add to a :class:`Finding` (``ssvc``, ``priority_score``, ``epss``, ``kev``,
``vex``, ``state``) are read with ``getattr`` and shown when present: SSVC as an assessment object with
``ssvc_dict(lang)``, or such a dict, or a plain outcome; VEX as a statement object, a dict or a status.
Every finding has a status (:attr:`Finding.status`: open, under investigation, affected, not affected,
fixed), shown in its own column with a filter; not affected and fixed ones are marked outside the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

from mamori import __version__
from mamori.i18n import Messages
from mamori.model.references import web_url
from mamori.report import messages as scan_messages
from mamori.report.fix_first import fix_first
from mamori.report.rows import COVERAGE_COLUMNS, coverage_line, coverage_rows
from mamori.scan.result import RATING_ORDER, RATINGS, STATUSES, Finding, ScanResult
from mamori.triage.texts import state_label

LANGS = ("en", "ja")
Bi = dict[str, str]
MESSAGES = Messages("data/report/messages.yaml")


def msg(*path: str, **values: object) -> Bi:
    """The HTML report's own words (data/report/messages.yaml) in both languages, placeholders filled."""
    return {lang: MESSAGES.text(lang, *path, **values) for lang in LANGS}


def plain_messages() -> dict[str, Bi]:
    """Every top-level entry of the report's words that needs no placeholder, by key."""
    return {
        key: {lang: entry[lang] for lang in LANGS}
        for key, entry in MESSAGES.table().items()
        if isinstance(entry, dict) and set(entry) == set(LANGS) and "{" not in entry["en"]
    }


def shared(*path: str) -> Bi:
    """Words shared with the other scan reports (data/scan/messages.yaml): columns, ratings, confidences."""
    return {lang: scan_messages.text(lang, *path) for lang in LANGS}


def same(text: str) -> Bi:
    return dict.fromkeys(LANGS, text)


@dataclass(slots=True)
class Text:
    """A text from the data, in one language or two: ``by_lang`` holds one entry per shown language."""

    by_lang: dict[str, str]

    @property
    def single(self) -> bool:
        return len(self.by_lang) == 1


@dataclass(slots=True)
class EvidenceView:
    method: str
    confidence: Bi
    source: str
    record: str
    detail: str
    fixed: str | None


@dataclass(slots=True)
class LinkView:
    url: str
    type: str
    linkable: bool  # http(s) only; anything else is shown as text, never as a link


@dataclass(slots=True)
class SsvcView:
    outcome: Bi
    table: str
    path: Bi


@dataclass(slots=True)
class VexView:
    status: str
    justification: str | None
    statement: str | None


@dataclass(slots=True)
class StatusView:
    status: str
    label: Bi
    in_gate: bool
    justification: Bi | None
    detail: str | None
    origin: Bi | None


@dataclass(slots=True)
class FindingView:
    anchor: str
    rating: str
    rating_label: Bi
    rating_key: float  # rank × 100 + score: sorts like the default order
    score: float | None
    vector: str | None
    severity_source: str | None
    vuln_id: str
    aliases: list[str]
    sources: list[str]
    summary: Text | None
    component: str
    version: str
    purl: str | None
    cpe: str | None
    ecosystem: str
    kev: Bi | None
    epss: float | None
    epss_text: Bi | None
    priority: float | None
    ssvc: SsvcView | None
    vex: VexView | None
    status: StatusView
    fixed: list[str]
    fix_text: Bi
    methods: list[str]
    match_label: Bi
    evidence: list[EvidenceView]
    cwes: list[str]
    references: list[LinkView]
    search: str


@dataclass(slots=True)
class Option:
    value: str
    label: Bi


@dataclass(slots=True)
class SourceView:
    name: str
    records: int
    updated: str


@dataclass(slots=True)
class ChartBar:
    rating: str
    label: Bi
    count: int
    width: float
    y: int


@dataclass(slots=True)
class NotEvaluatedView:
    component: str
    purl: str | None
    vulnerability: str | None
    reason: Bi
    code: str


@dataclass(slots=True)
class CoverageView:
    """The coverage section: the one-line summary, a row per scope, why the result is partial."""

    line: Bi
    headers: list[Bi]
    rows: list[list[Bi]]
    problems: list[Bi]
    max_age: Bi | None
    updated: str
    newest_record: str


@dataclass(slots=True)
class ClearedView:
    vuln_id: str
    anchor: str | None  # the finding's row in the findings table


@dataclass(slots=True)
class FixFirstView:
    """One upgrade: the component, the version to upgrade to, what it clears and how much risk."""

    component: str
    version: str
    purl: str | None
    target: str
    cleared: list[ClearedView]
    weight: float
    outcome: Bi | None  # the highest SSVC outcome among the findings cleared
    left: Bi | None  # findings of the component the upgrade does not clear (no fixed version)


@dataclass(slots=True)
class ReportView:
    lang: str
    target: str
    sbom_format: str
    components: int
    generated: str
    demo: Bi | None
    triage_notice: Bi | None  # the ranking assumed the worst case for context nobody gave
    sources: list[SourceView]
    findings: list[FindingView]
    affected: int
    not_evaluated: list[NotEvaluatedView]
    not_evaluated_components: int
    coverage: CoverageView
    partial: bool
    nothing_found: Bi
    chart: list[ChartBar]
    chart_height: int
    ratings: list[Option]
    statuses: list[Option]
    ecosystems: list[Option]
    methods: list[Option]
    has_epss: bool
    has_priority: bool
    has_ssvc: bool
    has_vex: bool
    fix_first: list[FixFirstView] = field(default_factory=list)
    version: str = __version__
    # what --severity, --ignore-unfixed and the ignore file hid or suppressed, and expired ignore entries
    scan_notes: list[Bi] = field(default_factory=list)
    columns: int = field(default=0)


def ecosystem(purl: str | None, cpe: str | None) -> str:
    """The purl type (maven, npm, pypi, golang …), ``cpe`` for a CPE-only component, else ``none``."""
    if purl:
        try:
            return PackageURL.from_string(purl).type
        except ValueError:
            return "other"
    return "cpe" if cpe else "none"


def _ecosystem_label(key: str) -> Bi:
    return msg("ecosystems", key) if key in ("cpe", "none", "other") else same(key)


def _summary(f: Finding) -> Text | None:
    v = f.vulnerability
    texts = {lang: v.summary(lang) for lang in LANGS}
    if not texts["en"] and not texts["ja"]:
        return None
    if texts["en"] == texts["ja"]:
        own = "ja" if texts["ja"] in (v.summaries.get("ja"), v.titles.get("ja")) else "en"
        return Text({own: str(texts[own])})
    return Text({lang: str(text) for lang, text in texts.items() if text})


def _attr(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _kev(f: Finding) -> Bi | None:
    own = getattr(f, "kev", None)
    kev = own if own not in (None, False) else f.vulnerability.kev
    if kev in (None, False):
        return None
    unknown = msg("unknown_value")
    return {
        lang: msg(
            "kev_detail",
            added=_attr(kev, "date_added") or unknown[lang],
            due=_attr(kev, "due_date") or unknown[lang],
            ransomware=_attr(kev, "known_ransomware_use") or unknown[lang],
        )[lang]
        for lang in LANGS
    }


def _epss(f: Finding) -> tuple[float | None, Bi | None]:
    own = getattr(f, "epss", None)
    epss = own if own is not None else f.vulnerability.epss
    if epss is None:
        return None, None
    if isinstance(epss, int | float):
        return float(epss), same(f"EPSS {float(epss):.5f}")
    score = float(_attr(epss, "score") or 0.0)
    percentile = _attr(epss, "percentile")
    unknown = msg("unknown_value")
    text = {
        lang: msg(
            "epss_detail",
            score=f"{score:.5f}",
            percentile=f"{float(percentile):.5f}" if percentile is not None else unknown[lang],
            date=_attr(epss, "date") or unknown[lang],
        )[lang]
        for lang in LANGS
    }
    return score, text


def _ssvc(f: Finding) -> SsvcView | None:
    value = getattr(f, "ssvc", None)
    if value is None:
        return None
    if hasattr(value, "ssvc_dict"):
        by_lang = {lang: value.ssvc_dict(lang) for lang in LANGS}
        paths = {lang: value.path_text(lang) if hasattr(value, "path_text") else "" for lang in LANGS}
    elif isinstance(value, dict):
        by_lang = dict.fromkeys(LANGS, value)
        paths = dict.fromkeys(LANGS, "")
    else:
        return SsvcView(same(str(value)), "", same(""))
    outcome = {lang: str(d.get("outcome_name") or d.get("outcome") or "") for lang, d in by_lang.items()}
    return SsvcView(outcome, str(by_lang["en"].get("table") or ""), paths)


def _vex(f: Finding) -> VexView | None:
    value = getattr(f, "vex", None)
    if value is None:
        return None
    if isinstance(value, str):
        return VexView(value, None, None)
    statement = _attr(value, "impact_statement") or _attr(value, "action_statement") or _attr(value, "detail")
    return VexView(str(_attr(value, "status") or ""), _attr(value, "justification"), statement)


def _status(f: Finding) -> StatusView:
    state = getattr(f, "state", None)
    status = f.status
    label = {lang: state_label(status, lang) for lang in LANGS}
    if state is None or not hasattr(state, "origin"):
        vex = f.vex or {}
        why = vex.get("justification")
        return StatusView(status, label, not f.out_of_gate, same(why) if why else None, None, None)
    why = {lang: state.justification_label(lang) for lang in LANGS} if state.justification else None
    origin = {lang: state.origin.describe(lang) for lang in LANGS} if state.origin is not None else None
    return StatusView(status, label, state.in_gate, why, state.detail, origin)


def _references(f: Finding) -> list[LinkView]:
    return [LinkView(r.url, r.type, web_url(r.url) is not None) for r in f.vulnerability.references]


def _severity_source(f: Finding) -> str | None:
    """Who scored the vector: the source, and the provider when it names one (not a record id)."""
    severity = f.vulnerability.severity
    if severity is None:
        return None
    ids = {f.vulnerability.id, *f.vulnerability.aliases}
    provider = severity.provider if severity.provider and severity.provider not in ids else None
    return " · ".join(p for p in (severity.source, provider) if p) or None


def _fix_text(f: Finding) -> Bi:
    if f.nearest_fixed:
        return {
            lang: scan_messages.text(
                lang, "text", "upgrade", component=f.component.label, fixed=f.nearest_fixed
            )
            for lang in LANGS
        }
    return shared("text", "no_fix")


def finding_view(index: int, f: Finding) -> FindingView:
    v = f.vulnerability
    c = f.component
    rating = v.rating
    score = v.score
    eco = ecosystem(c.purl, c.cpe)
    epss, epss_text = _epss(f)
    priority = getattr(f, "priority_score", None)
    summary = _summary(f)
    evidence = [
        EvidenceView(e.method, shared("confidence", e.confidence), e.source, e.record_id, e.detail, e.fixed)
        for e in f.evidence
    ]
    methods = sorted({e.method for e in f.evidence})
    search = " ".join(
        [
            c.label,
            c.purl or "",
            c.cpe or "",
            v.id,
            *v.aliases,
            *v.cwes,
            *(summary.by_lang.values() if summary else ()),
        ]
    ).lower()
    return FindingView(
        anchor=f"f{index}",
        rating=rating,
        rating_label=shared("ratings", rating),
        rating_key=RATING_ORDER.get(rating, -1) * 100 + (score or 0.0),
        score=score,
        vector=v.severity.vector if v.severity else None,
        severity_source=_severity_source(f),
        vuln_id=v.id,
        aliases=list(v.aliases),
        sources=list(v.sources),
        summary=summary,
        component=c.name if not c.group or c.purl else f"{c.group}/{c.name}",
        version=c.version or "",
        purl=c.purl,
        cpe=c.cpe,
        ecosystem=eco,
        kev=_kev(f),
        epss=epss,
        epss_text=epss_text,
        priority=float(priority) if priority is not None else None,
        ssvc=_ssvc(f),
        vex=_vex(f),
        status=_status(f),
        fixed=list(f.fixed_versions),
        fix_text=_fix_text(f),
        methods=methods,
        match_label={
            lang: f"{f.match.method} ({scan_messages.text(lang, 'confidence', f.match.confidence)})"
            for lang in LANGS
        },
        evidence=evidence,
        cwes=list(v.cwes),
        references=_references(f),
        search=" ".join(search.split()),
    )


def _order(f: Finding) -> tuple[int, float, str, str, str]:
    v = f.vulnerability
    return (
        -RATING_ORDER.get(v.rating, -1),
        -(v.score or 0.0),
        f.component.name,
        f.component.version or "",
        v.id,
    )


CHART_ROW = 30


def _chart(counts: dict[str, int]) -> list[ChartBar]:
    top = max(counts.values(), default=0) or 1
    return [
        ChartBar(
            rating,
            shared("ratings", rating),
            counts[rating],
            round(300 * counts[rating] / top, 1),
            i * CHART_ROW,
        )
        for i, rating in enumerate(RATINGS)
    ]


def coverage_view(result: ScanResult) -> CoverageView:
    by_lang = {lang: coverage_rows(result, lang) for lang in LANGS}
    rows = [
        [{lang: str(by_lang[lang][r][c]) for lang in LANGS} for c in range(len(COVERAGE_COLUMNS))]
        for r in range(len(result.coverage.scopes))
    ]
    problems = result.problems()
    days = result.coverage.max_age_days
    return CoverageView(
        line={lang: coverage_line(result, lang) for lang in LANGS},
        headers=[shared("coverage", c) for c in COVERAGE_COLUMNS],
        rows=rows,
        problems=[{lang: p.text(lang) for lang in LANGS} for p in problems],
        max_age={lang: scan_messages.text(lang, "coverage", "days", count=f"{days:g}") for lang in LANGS}
        if days is not None
        else None,
        updated=result.coverage.updated or "",
        newest_record=result.coverage.newest_record or "",
    )


def _nothing_found(result: ScanResult) -> Bi:
    """Never "no known vulnerability" for what was not checked."""
    missing = result.components_not_evaluated()
    if result.coverage.empty:
        return msg("empty_store")
    if missing and missing >= result.components:
        return msg("nothing_evaluated")
    if missing:
        return msg("none_evaluated", evaluated=result.components - missing, count=missing)
    return msg("none_found")


def _triage_notice(result: ScanResult) -> Bi | None:
    notices = (result.triage or {}).get("notices") or {}
    if not all(notices.get(lang) for lang in LANGS):
        return None
    return {lang: str(notices[lang]) for lang in LANGS}


def scan_notes(result: ScanResult) -> list[Bi]:
    """One line each for what the scan's filters hid and what its ignore file suppressed or no longer
    applies (expired entries): a report never passes over them in silence."""
    notes: list[Bi] = []
    filters = result.filters or {}
    if filters.get("severity") is not None:
        notes.append(
            msg(
                "filtered_severity",
                count=filters["hidden_by_severity"],
                severity=",".join(filters["severity"]),
            )
        )
    if filters.get("ignore_unfixed"):
        notes.append(msg("filtered_unfixed", count=filters["hidden_unfixed"]))
    ignored = (result.triage or {}).get("ignorefile")
    if ignored:
        notes.append(msg("ignore_suppressed", count=ignored["suppressed"], path=ignored["path"]))
        for e in ignored["expired"]:
            notes.append(
                msg(
                    "ignore_expired", path=ignored["path"], where=e["where"], id=e["id"], date=e["expired_at"]
                )
            )
    return notes


def _outcome_text(ssvc: Any) -> Bi | None:
    if ssvc is None:
        return None
    if hasattr(ssvc, "ssvc_dict"):
        return {lang: str(ssvc.ssvc_dict(lang).get("outcome_name") or "") for lang in LANGS}
    if isinstance(ssvc, dict):
        return same(str(ssvc.get("outcome_name") or ssvc.get("outcome") or ""))
    return same(str(ssvc))


def fix_first_view(result: ScanResult, anchors: dict[tuple[str, str, str], str]) -> list[FixFirstView]:
    """The fix-first rows (mamori.report.fix_first) with links to the findings they clear."""
    out = []
    for row in fix_first(result):
        top = row.top
        out.append(
            FixFirstView(
                component=row.component,
                version=row.version,
                purl=row.purl,
                target=row.target,
                cleared=[
                    ClearedView(c.vuln_id, anchors.get((row.component, row.version, c.vuln_id)))
                    for c in row.cleared
                ],
                weight=row.weight,
                outcome=_outcome_text(top.outcome) if top.outcome is not None else None,
                left=msg("fix_first_left", count=row.left) if row.left else None,
            )
        )
    return out


def report_view(result: ScanResult, lang: str) -> ReportView:
    findings = [finding_view(i, f) for i, f in enumerate(sorted(result.findings, key=_order), start=1)]
    anchors = {(f.component, f.version, f.vuln_id): f.anchor for f in findings}
    demo_records = sum(s.records for name, s in result.sources.items() if name == "osv")
    view = ReportView(
        lang=lang if lang in LANGS else "en",
        target=result.target,
        sbom_format=result.sbom_format,
        components=result.components,
        generated=result.generated_at,
        demo=msg("demo_banner", records=demo_records) if result.demo else None,
        triage_notice=_triage_notice(result),
        sources=[SourceView(name, s.records, s.updated or "") for name, s in sorted(result.sources.items())],
        findings=findings,
        affected=result.components_affected(),
        not_evaluated=[
            NotEvaluatedView(
                n.component.label,
                n.component.purl,
                n.vulnerability_id,
                {lang_: n.text(lang_) for lang_ in LANGS},
                n.code,
            )
            for n in result.not_evaluated
        ],
        not_evaluated_components=result.components_not_evaluated(),
        coverage=coverage_view(result),
        partial=result.partial,
        nothing_found=_nothing_found(result),
        chart=_chart(result.by_rating()),
        chart_height=CHART_ROW * len(RATINGS),
        ratings=[Option(r, shared("ratings", r)) for r in RATINGS],
        statuses=[
            Option(s, {lang: state_label(s, lang) for lang in LANGS})
            for s in STATUSES
            if any(f.status.status == s for f in findings)
        ],
        ecosystems=[Option(e, _ecosystem_label(e)) for e in sorted({f.ecosystem for f in findings})],
        methods=[Option(m, same(m)) for m in sorted({m for f in findings for m in f.methods})],
        has_epss=any(f.epss is not None for f in findings),
        has_priority=any(f.priority is not None for f in findings),
        has_ssvc=any(f.ssvc is not None for f in findings),
        has_vex=any(f.vex is not None for f in findings),
        fix_first=fix_first_view(result, anchors),
    )
    view.columns = 8 + sum((view.has_epss, view.has_priority, view.has_ssvc))
    view.scan_notes = scan_notes(result)
    return view
