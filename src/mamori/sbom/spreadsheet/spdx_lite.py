"""SPDX Lite as CSV and XLSX (SPDX 2.3 Annex G; field list in data/sbom/spdx_lite_fields.yaml).

XLSX written by mamori, like the OpenChain Japan template, has three sheets:

* ``Document 文書情報`` — one label/value row per document field (Creator repeats, one row per creator);
* ``Packages パッケージ`` — a header row, then one row per package;
* ``Licenses ライセンス`` — a header row, then one row per LicenseRef used (License Identifier, Extracted Text,
  License Name, License Comment).

CSV written by mamori holds the same three parts in one file, **document fields as leading label/value rows**,
then a blank row, the package table, a blank row and the licence table. It is UTF-8 with a BOM and CRLF line ends
so that Excel opens Japanese text correctly; cells Excel would run as formulas get a leading ``'`` that the
reader removes again (:mod:`mamori.cells`, shared by every CSV and XLSX writer; in XLSX the cells are typed
text with Excel's quote prefix, so the text itself is unchanged).

Headers are bilingual, ``Package Name / パッケージ名``. On read, a header may be the SPDX tag, the English or the
Japanese label, or both; document fields may also be columns of the package table, and CSV may be UTF-8 (with
or without BOM), UTF-16 with BOM or cp932 (Shift_JIS). See ``lite_read`` for every layout accepted.
Multi-valued cells (Creator, External Reference) hold one value per line.
"""

from __future__ import annotations

import io
from pathlib import Path

from mamori import cells
from mamori.model import Document
from mamori.sbom.formats import ReadOptions
from mamori.sbom.spreadsheet.lite_fields import DROPPED, LiteField
from mamori.sbom.spreadsheet.lite_read import read_sheets
from mamori.sbom.spreadsheet.lite_write import LiteTables, build_tables
from mamori.sbom.spreadsheet.table import Sheet, choose_sheet, load_csv, load_xlsx, write_csv_rows

__all__ = ["DROPPED", "read_csv", "read_xlsx", "write_csv", "write_xlsx"]

SHEET_DOCUMENT, SHEET_PACKAGES, SHEET_LICENSES = (
    "Document 文書情報",
    "Packages パッケージ",
    "Licenses ライセンス",
)


def _chosen(sheets: list[Sheet], path: Path, options: ReadOptions) -> list[Sheet]:
    return sheets if options.sheet is None else [choose_sheet(sheets, options.sheet, path)]


def read_csv(data: bytes, path: Path, options: ReadOptions) -> Document:
    return read_sheets(_chosen([load_csv(data, path)], path, options), path)


def read_xlsx(data: bytes, path: Path, options: ReadOptions) -> Document:
    """Every sheet is read (document, package and licence parts usually sit on different sheets),
    or only the one ``options.sheet`` names (``--sheet``: a name or a 1-based number)."""
    return read_sheets(_chosen(load_xlsx(data, path), path, options), path)


def _table(fields: list[LiteField], rows: list[dict[str, str]]) -> list[list[str]]:
    return [[f.header for f in fields], *([row.get(f.key, "") for f in fields] for row in rows)]


def _parts(tables: LiteTables) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    document = [[fld.header, value] for fld, value in tables.document]
    packages = _table(tables.package_fields, tables.packages)
    licenses = _table(tables.license_fields, tables.licenses) if tables.licenses else []
    return document, packages, licenses


def write_csv(doc: Document, spec_version: str | None) -> bytes:
    document, packages, licenses = _parts(build_tables(doc, spec_version))
    rows = [*document, [], *packages]
    if licenses:
        rows += [[], *licenses]
    return write_csv_rows(rows)


def write_xlsx(doc: Document, spec_version: str | None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    document, packages, licenses = _parts(build_tables(doc, spec_version))
    workbook = Workbook(write_only=True)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for title, rows, header in (
        (SHEET_DOCUMENT, document, False),
        (SHEET_PACKAGES, packages, True),
        (SHEET_LICENSES, licenses, True),
    ):
        if not rows:
            continue
        sheet = workbook.create_sheet(title)
        for letter_index in range(max(len(r) for r in rows)):
            sheet.column_dimensions[_column_letter(letter_index)].width = 28
        if header:
            sheet.freeze_panes = "A2"
        for number, values in enumerate(rows):
            # text always (mamori.cells): never a formula, never a number ("1.10" stays "1.10")
            out = cells.xlsx_row(sheet, values)
            for index, cell in enumerate(out):
                if cell.value is None:
                    continue
                if (header and number == 0) or (not header and index == 0):
                    cell.font = bold
                if "\n" in cell.value or (header and number == 0):
                    cell.alignment = wrap
            sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
