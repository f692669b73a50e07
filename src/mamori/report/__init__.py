"""Scan reports: one ``render(scan_result, lang) -> bytes`` per format, imported lazily; a format module
may also have ``write(scan_result, stream, lang)`` that writes the same bytes piece by piece.

``html`` lives in :mod:`mamori.report.html` (same signature); until that module exists, asking for
it raises a clear error.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import IO

from mamori.errors import InputError
from mamori.i18n import _
from mamori.scan.result import ScanResult

FORMATS: dict[str, str] = {
    "table": "mamori.report.table",
    "json": "mamori.report.json_report",
    "sarif": "mamori.report.sarif",
    "cyclonedx-vdr": "mamori.report.cyclonedx_vdr",
    "csv": "mamori.report.csv_report",
    "xlsx": "mamori.report.xlsx_report",
    "html": "mamori.report.html",
}
BINARY = {"xlsx"}


def render(fmt: str, result: ScanResult, lang: str = "en") -> bytes:
    """The report in ``fmt`` (one of :data:`FORMATS`) and ``lang`` (en or ja)."""
    return _module(fmt).render(result, lang)


def write(fmt: str, result: ScanResult, stream: IO[bytes], lang: str = "en") -> None:
    """:func:`render` into ``stream``; formats that can write a finding at a time do so (JSON)."""
    module = _module(fmt)
    if hasattr(module, "write"):
        module.write(result, stream, lang)
    else:
        stream.write(module.render(result, lang))


def _module(fmt: str) -> ModuleType:
    if fmt not in FORMATS:
        raise InputError(
            None,
            _("--format: expected one of {allowed}, got {fmt!r}").format(allowed=", ".join(FORMATS), fmt=fmt),
        )
    try:
        module = importlib.import_module(FORMATS[fmt])
    except ModuleNotFoundError as exc:
        if exc.name != FORMATS[fmt]:
            raise
        raise InputError(
            None,
            _("--format {fmt}: this report is not available in this version of mamori yet").format(fmt=fmt),
        ) from None
    return module
