"""Spreadsheet bytes → rows of cell text, for CSV (any Japanese Excel encoding) and XLSX.

Both readers (SPDX Lite and plain component lists) work on :class:`Sheet` objects so that the same logic
serves CSV and XLSX. Cell text is stripped; empty cells are ``""``. Row numbers in messages are 1-based,
as Excel shows them.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from mamori import cells
from mamori.errors import InputError
from mamori.fileio import check_xlsx
from mamori.i18n import _

MAX_CELLS = 5_000_000  # refuse workbooks that expand to more cells than this (zip bombs, runaway sheets)
_LABEL_DROP = re.compile(r"[\s_\-.・:：()\[\]（）［］「」【】*※]+")
_NUMBERING = re.compile(r"^(?:L\d+(?:\.\d+)*|\d+(?:\.\d+)*\.?|No\.?\s*\d*)\s+", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never meaningful in a cell; XML cannot hold them
_PAREN = re.compile(r"^(.*?)\s*[(（](.+?)[)）]\s*$", re.S)


@dataclass(slots=True)
class Sheet:
    """One table of cell text. ``name`` is the worksheet title, or None for CSV."""

    name: str | None
    rows: list[list[str]]

    def where(self, row: int, column: str | None = None) -> str:
        """``sheet 'x', row 4, column '版'`` for error messages."""
        parts = [f"sheet {self.name!r}"] if self.name is not None else []
        parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column {column!r}")
        return ", ".join(parts)


def choose_sheet(sheets: list[Sheet], wanted: str, path: Path) -> Sheet:
    """The sheet named ``wanted``, else the one at that 1-based number (``--sheet``); InputError otherwise."""
    for sheet in sheets:
        if sheet.name == wanted:
            return sheet
    if wanted.isdigit() and 1 <= int(wanted) <= len(sheets):
        return sheets[int(wanted) - 1]
    names = ", ".join(repr(s.name) for s in sheets)
    raise InputError(path, _("no sheet named {wanted!r}; sheets: {names}").format(wanted=wanted, names=names))


@functools.cache
def norm_label(text: str) -> str:
    """Fold a header label for comparison: NFKC, case, spaces and punctuation removed."""
    return _LABEL_DROP.sub("", unicodedata.normalize("NFKC", text)).casefold()


def label_variants(cell: str) -> list[str]:
    """The folded forms a header cell may be matched by, most specific first.

    ``"パッケージ名 / Package Name"``, ``"Package Name\\nパッケージ名"`` and ``"パッケージ名 (Package Name)"``
    all yield both labels; a leading item number such as ``L2.1`` is ignored.
    """
    out: list[str] = []
    pieces = [cell, *re.split(r"\n|\s/\s|／|/", cell)]
    for piece in pieces:
        piece = _NUMBERING.sub("", piece.strip())
        candidates = [piece]
        match = _PAREN.match(piece)
        if match:
            candidates += [match.group(1), match.group(2)]
        for cand in candidates:
            folded = norm_label(cand)
            if folded and folded not in out:
                out.append(folded)
    return out


def cell_text(value: object) -> str:
    """Text of an openpyxl cell value. Dates become ISO 8601; integral floats keep their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return clean(str(value))


def clean(text: str) -> str:
    """Cell text stripped of surrounding space and of control characters (tab and new line stay)."""
    return _CONTROL.sub("", text).strip()


def decode_text(data: bytes, path: Path) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, or cp932 (Shift_JIS, Japanese Excel)."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8", path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16", path)
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(path, _("cannot decode the text: it is neither UTF-8 nor Shift_JIS (cp932)"))


def _decode(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            path, _("invalid {encoding} text at byte {start}").format(encoding=encoding, start=exc.start)
        ) from None


def _delimiter(text: str, path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    head = text[:8192]
    return "\t" if head.count("\t") > head.count(",") else ","


def load_csv(data: bytes, path: Path, *, max_rows: int | None = None) -> Sheet:
    """Parse CSV/TSV bytes into one :class:`Sheet`. ``max_rows`` stops early (for sniffing)."""
    text = decode_text(data, path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text, path), strict=False)
    rows: list[list[str]] = []
    try:
        for record in reader:
            rows.append([cells.restore(clean(cell)) for cell in record])  # undo the formula guard
            if max_rows is not None and len(rows) >= max_rows:
                break
    except csv.Error as exc:
        raise InputError(
            path, _("malformed CSV at row {line_num}: {exc}").format(line_num=reader.line_num, exc=exc)
        ) from None
    return Sheet(None, rows)


def load_xlsx(data: bytes, path: Path, *, max_rows: int | None = None) -> list[Sheet]:
    """Every worksheet of an XLSX workbook, read with openpyxl in read-only mode.

    Anything openpyxl cannot read (not a zip, a damaged part, bad XML) becomes one InputError.
    """
    import openpyxl

    check_xlsx(data, path)  # sizes and compression ratios of the parts, before openpyxl parses them
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                return _sheets(workbook.worksheets, path, max_rows)
            finally:
                workbook.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises anything from zipfile, zlib, XML and its own checks
        detail = " ".join(str(exc).split())  # zipfile and openpyxl messages may span lines
        raise InputError(
            path,
            _("not a readable XLSX workbook ({kind}: {detail})").format(
                kind=type(exc).__name__, detail=detail
            ),
        ) from None


def _sheets(worksheets: Iterable[Any], path: Path, max_rows: int | None) -> list[Sheet]:
    sheets: list[Sheet] = []
    cells = 0
    for worksheet in worksheets:
        if not hasattr(worksheet, "iter_rows"):
            continue
        rows: list[list[str]] = []
        for values in worksheet.iter_rows(values_only=True, max_row=max_rows):
            row = [cell_text(v) for v in values]
            while row and not row[-1]:
                row.pop()
            rows.append(row)
            cells += len(row)
            if cells > MAX_CELLS:
                raise InputError(
                    path,
                    _("workbook has more than {max_cells} filled cells; split it").format(
                        max_cells=MAX_CELLS
                    ),
                )
        while rows and not rows[-1]:
            rows.pop()
        sheets.append(Sheet(str(worksheet.title), rows))
    return sheets


def write_csv_rows(rows: Iterable[list[str]]) -> bytes:
    """CSV bytes in UTF-8 with BOM and CRLF, so that Excel opens Japanese text correctly; cells a
    spreadsheet would run as formulas are quote-prefixed (:mod:`mamori.cells`), which :func:`load_csv`
    undoes."""
    return cells.csv_bytes(rows)


def nonempty(row: list[str]) -> bool:
    return any(row)
