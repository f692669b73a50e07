"""Excel report (openpyxl): findings, components not evaluated (reason code and reason), the coverage
per scope, and a summary sheet (counts, the coverage line, why the result is partial)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from mamori.report.messages import text
from mamori.report.rows import (
    COVERAGE_COLUMNS,
    FINDING_COLUMNS,
    NOT_EVALUATED_COLUMNS,
    counts_line,
    coverage_line,
    coverage_rows,
    finding_row,
    headers,
    not_evaluated_rows,
)
from mamori.scan.result import RATINGS, ScanResult

_ILLEGAL = {i for i in range(32) if i not in (9, 10, 13)}


def _clean(value: object) -> object:
    if isinstance(value, str) and any(ord(ch) in _ILLEGAL for ch in value):
        return "".join(ch for ch in value if ord(ch) not in _ILLEGAL)
    return value


def _table(ws: Worksheet, head: list[str], rows: list[list[object]]) -> None:
    ws.append(head)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_clean(v) for v in row])
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = ws.dimensions


def render(result: ScanResult, lang: str = "en") -> bytes:
    wb = Workbook()
    findings = wb.active
    findings.title = text(lang, "sheets", "findings")
    _table(findings, headers(FINDING_COLUMNS, lang), [finding_row(f, lang) for f in result.findings])
    skipped = wb.create_sheet(text(lang, "sheets", "not_evaluated"))
    _table(skipped, headers(NOT_EVALUATED_COLUMNS, lang), not_evaluated_rows(result, lang))
    coverage = wb.create_sheet(text(lang, "sheets", "coverage"))
    _table(coverage, headers(COVERAGE_COLUMNS, lang, "coverage"), coverage_rows(result, lang))
    summary = wb.create_sheet(text(lang, "sheets", "summary"))
    summary.append([_clean(text(lang, "text", "title", target=result.target))])
    summary.append([counts_line(result, lang)])
    summary.append([_clean(coverage_line(result, lang))])
    for problem in result.problems():
        summary.append([_clean(problem.text(lang))])
    cov = result.coverage
    for key, value in (("updated", cov.updated), ("newest_record", cov.newest_record)):
        if value:
            summary.append([text(lang, "coverage", key), value])
    if cov.max_age_days is not None:
        summary.append([text(lang, "coverage", "max_age"), cov.max_age_days])
    counts = result.by_rating()
    for rating in RATINGS:
        summary.append([text(lang, "ratings", rating), counts[rating]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
