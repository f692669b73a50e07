"""Findings as flat rows with bilingual headers (table, CSV, XLSX share them)."""

from __future__ import annotations

from mamori.report.messages import text
from mamori.scan.result import STATUSES, Finding, ScanResult, ScopeCoverage, age_text
from mamori.triage.texts import state_label

FINDING_COLUMNS = (
    "component",
    "version",
    "purl",
    "vulnerability",
    "aliases",
    "rating",
    "score",
    "vector",
    "kev",
    "epss",
    "fixed",
    "method",
    "confidence",
    "sources",
    "summary",
    "detail",
    "status",
    "justification",
    "status_detail",
    "status_origin",
)
NOT_EVALUATED_COLUMNS = ("component", "version", "purl", "vulnerability", "code", "reason")
COVERAGE_COLUMNS = (
    "scope",
    "status",
    "source",
    "complete_at",
    "age",
    "records",
    "components",
    "not_evaluated_col",
    "origin",
)


def counts_line(result: ScanResult, lang: str) -> str:
    """How many components were scanned, findings made and components affected, in ``lang``."""
    return text(
        lang,
        "text",
        "counts",
        components=result.components,
        findings=len(result.findings),
        affected=result.components_affected(),
    )


def scope_text(s: ScopeCoverage, lang: str, demo: bool = False) -> str:
    """One scope as the coverage line shows it: ``PyPI ✓ (osv, 1 d old)``, ``npm ✗ partial (3 records)``."""
    label = s.label(lang)
    if s.complete and demo:
        return text(lang, "coverage", "complete_demo", scope=label)
    if s.complete:
        age = age_text(s.age_days, lang) if s.age_days is not None else "?"
        shown = text(lang, "coverage", "complete", scope=label, source=s.source, age=age)
        return f"{shown} ⚠ {text(lang, 'coverage', 'stale')}" if s.stale else shown
    if s.records:
        return text(lang, "coverage", "partial", scope=label, records=s.records)
    return text(lang, "coverage", "missing", scope=label)


def coverage_line(result: ScanResult, lang: str) -> str:
    """``Coverage: PyPI ✓ (osv, 1 d old) · npm ✗ partial (3 records) — 840 components not evaluated``."""
    cov = result.coverage
    if cov.empty:
        scopes = text(lang, "coverage", "empty")
    elif cov.scopes:
        scopes = " · ".join(scope_text(s, lang, result.demo) for s in cov.scopes)
    else:
        scopes = text(lang, "coverage", "nothing")
    missing = result.components_not_evaluated()
    tail = (
        text(lang, "coverage", "not_evaluated", count=missing)
        if missing
        else text(lang, "coverage", "all_evaluated", count=result.components)
    )
    return f"{text(lang, 'coverage', 'title')}: {scopes} — {tail}"


def coverage_rows(result: ScanResult, lang: str) -> list[list[object]]:
    """One row per scope (columns :data:`COVERAGE_COLUMNS`)."""
    rows: list[list[object]] = []
    for s in result.coverage.scopes:
        if s.complete:
            status = text(lang, "coverage", "demo_word" if result.demo else "complete_word")
            if s.stale:
                status += f" ({text(lang, 'coverage', 'stale')})"
        else:
            status = text(lang, "coverage", "partial_word" if s.records else "none_word")
        rows.append(
            [
                s.label(lang),
                status,
                s.source or ", ".join(s.sources),
                s.complete_at or "",
                age_text(s.age_days, lang) if s.age_days is not None else "",
                s.records,
                s.components,
                s.not_evaluated,
                s.origin or "",
            ]
        )
    return rows


def status_line(result: ScanResult, lang: str) -> str:
    """``By status: open 70, not affected 2, …`` (statuses with findings only)."""
    counts = result.by_status()
    shown = ", ".join(f"{state_label(s, lang)} {counts[s]}" for s in STATUSES if counts.get(s))
    return f"{text(lang, 'text', 'by_status')}: {shown}"


def status_cells(f: Finding, lang: str) -> list[object]:
    """Status, justification, detail and who said it (empty cells when nothing says anything)."""
    state = f.state
    if state is None:
        vex = f.vex or {}
        return [state_label(f.status, lang), vex.get("justification") or "", "", vex.get("source") or ""]
    return [
        state.label(lang),
        state.justification_label(lang) or "",
        state.detail or "",
        state.origin.describe(lang) if state.origin is not None else "",
    ]


def summary_line(result: ScanResult, lang: str) -> str:
    """``Known exploited (KEV): 3 · with a fixed version: 120`` (findings)."""
    kev = sum(1 for f in result.findings if f.vulnerability.kev is not None)
    fixable = sum(1 for f in result.findings if f.fixed_versions)
    return text(lang, "text", "kev_fixable", kev=kev, fixable=fixable, findings=len(result.findings))


def headers(columns: tuple[str, ...], lang: str, section: str = "columns") -> list[str]:
    return [text(lang, section, c) for c in columns]


def finding_row(f: Finding, lang: str) -> list[object]:
    v = f.vulnerability
    return [
        f.component.name,
        f.component.version or "",
        f.component.purl or "",
        v.id,
        ", ".join(v.aliases),
        text(lang, "ratings", v.rating),
        v.score if v.score is not None else "",
        v.severity.vector if v.severity is not None else "",
        v.kev.date_added or text(lang, "text", "kev_yes") if v.kev is not None else "",
        round(v.epss.score, 5) if v.epss is not None else "",
        ", ".join(f.fixed_versions),
        f.match.method,
        text(lang, "confidence", f.match.confidence),
        ", ".join(v.sources),
        v.summary(lang) or "",
        f.match.detail,
        *status_cells(f, lang),
    ]


def not_evaluated_finding_rows(result: ScanResult, lang: str) -> list[list[object]]:
    """The components not evaluated as rows of the findings table (CSV): Severity "Not evaluated",
    Matched by the reason code, Evidence the reason; the other finding columns stay empty."""
    label = text(lang, "ratings", "not_evaluated")
    rows: list[list[object]] = []
    for n in result.not_evaluated:
        row: list[object] = [""] * len(FINDING_COLUMNS)
        row[0], row[1], row[2] = n.component.name, n.component.version or "", n.component.purl or ""
        row[3], row[5] = n.vulnerability_id or "", label
        row[FINDING_COLUMNS.index("method")] = n.code
        row[FINDING_COLUMNS.index("detail")] = n.text(lang)
        rows.append(row)
    return rows


def not_evaluated_rows(result: ScanResult, lang: str = "en") -> list[list[object]]:
    return [
        [
            n.component.name,
            n.component.version or "",
            n.component.purl or "",
            n.vulnerability_id or "",
            n.code,
            n.text(lang),
        ]
        for n in result.not_evaluated
    ]
