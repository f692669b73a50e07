"""CSV report: one row per finding, headers in the chosen language, UTF-8 with BOM (Excel opens it)."""

from __future__ import annotations

import csv
import io

from mamori.report.rows import FINDING_COLUMNS, finding_row, headers
from mamori.scan.result import ScanResult


def render(result: ScanResult, lang: str = "en") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(FINDING_COLUMNS, lang))
    for finding in result.findings:
        writer.writerow(finding_row(finding, lang))
    return out.getvalue().encode("utf-8-sig")
