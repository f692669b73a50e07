"""Spreadsheets: SPDX Lite (CSV/XLSX) and a vendor's own component list (CSV/XLSX).

``sniff_kind`` tells the two apart for mamori.sbom.detect; readers and writers live in ``spdx_lite`` and
``components``.
"""

from __future__ import annotations

from pathlib import Path

from mamori.sbom.spreadsheet.table import Sheet, load_csv, load_xlsx

SNIFF_ROWS = 30
# fields only an SPDX document has; PackageName alone is not enough (vendors write "パッケージ名" too)
_SPDX_ONLY = frozenset(
    {
        "spdx_version",
        "data_license",
        "document_namespace",
        "package_spdx_id",
        "license_concluded",
        "license_declared",
        "files_analyzed",
        "license_id",
        "extracted_text",
    }
)


def sniff_kind(data: bytes, path: Path, *, xlsx: bool) -> str:
    """``"spdx-lite"`` when the first rows name SPDX Lite fields, else ``"spreadsheet"``.

    Raises InputError for bytes that are not a readable workbook / decodable text.
    """
    sheets = (
        load_xlsx(data, path, max_rows=SNIFF_ROWS) if xlsx else [load_csv(data, path, max_rows=SNIFF_ROWS)]
    )
    return "spdx-lite" if any(_looks_like_lite(sheet) for sheet in sheets) else "spreadsheet"


def _looks_like_lite(sheet: Sheet) -> bool:
    from mamori.sbom.spreadsheet.lite_fields import match_field

    for row in sheet.rows[:SNIFF_ROWS]:
        keys = {f.key for cell in row if cell and (f := match_field(cell, prefer="package"))}
        first = next((cell for cell in row if cell), "")
        lead = match_field(first, prefer="document")
        if lead is not None and lead.key in ("spdx_version", "document_namespace"):
            return True  # a label/value document row
        if "package_name" in keys and keys & _SPDX_ONLY:
            return True
        if "license_id" in keys and "extracted_text" in keys:
            return True
    return False
