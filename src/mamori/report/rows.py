"""Findings as flat rows with bilingual headers (table, CSV, XLSX share them)."""

from __future__ import annotations

from mamori.report.messages import text
from mamori.scan.result import STATUSES, Finding, ScanResult
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
NOT_EVALUATED_COLUMNS = ("component", "version", "purl", "vulnerability", "reason")


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


def headers(columns: tuple[str, ...], lang: str) -> list[str]:
    return [text(lang, "columns", c) for c in columns]


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


def not_evaluated_rows(result: ScanResult) -> list[list[object]]:
    return [
        [
            n.component.name,
            n.component.version or "",
            n.component.purl or "",
            n.vulnerability_id or "",
            n.reason,
        ]
        for n in result.not_evaluated
    ]
