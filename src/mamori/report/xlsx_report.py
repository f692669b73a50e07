"""Excel report (openpyxl): findings, components not evaluated (reason code and reason), the coverage
per scope, and a summary sheet (counts, the coverage line, why the result is partial).

Every cell goes through :mod:`mamori.cells`: text is a typed string (never a formula, whatever a component
or a feed calls itself), numbers stay numbers."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from mamori import cells
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


def _append(ws: Worksheet, values: list[object]) -> None:
    ws.append(cells.xlsx_row(ws, values))


def _table(ws: Worksheet, head: list[str], rows: list[list[object]]) -> None:
    _append(ws, list(head))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(ws, row)
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
    _append(summary, [text(lang, "text", "title", target=result.target)])
    _append(summary, [counts_line(result, lang)])
    _append(summary, [coverage_line(result, lang)])
    for problem in result.problems():
        _append(summary, [problem.text(lang)])
    cov = result.coverage
    for key, value in (("updated", cov.updated), ("newest_record", cov.newest_record)):
        if value:
            _append(summary, [text(lang, "coverage", key), value])
    if cov.max_age_days is not None:
        _append(summary, [text(lang, "coverage", "max_age"), cov.max_age_days])
    counts = result.by_rating()
    for rating in RATINGS:
        _append(summary, [text(lang, "ratings", rating), counts[rating]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
