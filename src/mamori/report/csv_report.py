"""CSV report: one row per finding, headers in the chosen language, UTF-8 with BOM (Excel opens it).

Components that could not be evaluated follow the findings as rows of the same table, so that a CSV
never looks clean for what was not checked: their Severity is "Not evaluated", Matched by holds the
reason code (``coverage``, ``no-version`` …) and Evidence the reason; the other columns stay empty.
"""

from __future__ import annotations

import csv
import io

from mamori.report.rows import FINDING_COLUMNS, finding_row, headers, not_evaluated_finding_rows
from mamori.scan.result import ScanResult


def render(result: ScanResult, lang: str = "en") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(FINDING_COLUMNS, lang))
    for finding in result.findings:
        writer.writerow(finding_row(finding, lang))
    writer.writerows(not_evaluated_finding_rows(result, lang))
    return out.getvalue().encode("utf-8-sig")
