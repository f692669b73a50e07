"""CSV report: one row per finding, headers in the chosen language, UTF-8 with BOM (Excel opens it).

Components that could not be evaluated follow the findings as rows of the same table, so that a CSV
never looks clean for what was not checked: their Severity is "Not evaluated", Matched by holds the
reason code (``coverage``, ``no-version`` …) and Evidence the reason; the other columns stay empty.
Cells a spreadsheet would run as formulas (a component named ``=HYPERLINK(…)``) get a leading ``'``
(:mod:`mamori.cells`); numbers stay numbers.
"""

from __future__ import annotations

from mamori import cells
from mamori.report.rows import FINDING_COLUMNS, finding_row, headers, not_evaluated_finding_rows
from mamori.scan.result import ScanResult


def render(result: ScanResult, lang: str = "en") -> bytes:
    rows: list[list[object]] = [list(headers(FINDING_COLUMNS, lang))]
    rows += [finding_row(finding, lang) for finding in result.findings]
    rows += not_evaluated_finding_rows(result, lang)
    return cells.csv_bytes(rows)
