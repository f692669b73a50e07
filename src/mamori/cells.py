"""Spreadsheet cells that stay text: every CSV and XLSX mamori writes goes through this module.

A component name, a vulnerability summary or an answer may be hostile. Excel, LibreOffice and Google Sheets
run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(…)`` sends data away,
DDE runs programs); a leading tab or carriage return hides the same. The OWASP CSV injection guidance
(and ASVS 1.2.10) asks for such cells to be quote-prefixed:

* **CSV** (:func:`csv_bytes`, :func:`csv_row`): text whose first character is tab, carriage return or NUL,
  or whose first character after leading white space is ``= + - @`` or their full-width forms
  ``＝ ＋ － ＠`` (Japanese IMEs type these, and Japanese Excel reads them as formulas too) gets a leading
  ``'``. A plain signed number (``-1``, ``+2.5``) and a lone ``-`` stay as they are: spreadsheets read
  them as a number or text, never as a formula. Numbers given as numbers are written as numbers. A text
  that already starts with ``'`` followed by such a cell gets one more ``'``, so :func:`restore` (used by
  every CSV reader of mamori) gives back exactly what was written.
* **XLSX** (:func:`xlsx_row`, :func:`xlsx_put`): text is written as an explicit string cell (never a
  formula, whatever it starts with; ``1.10`` stays ``1.10``) and a cell that would need the prefix is
  marked with Excel's own quote prefix (``quotePrefix``): the sheet shows the exact text, and editing the
  cell keeps it text. Readers get the exact text back; nothing to undo. Numbers, booleans and dates stay
  typed. Characters XML cannot hold (control characters other than tab, new line and carriage return)
  are dropped.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "csv_bytes",
    "csv_row",
    "csv_text",
    "needs_prefix",
    "restore",
    "xlsx_put",
    "xlsx_row",
    "xlsx_value",
]

PREFIX = "'"
_ALWAYS = frozenset("\t\r\x00")  # OWASP: tab and carriage return; ASVS 1.2.10: NUL
_FORMULA = frozenset("=@＝＠")
_SIGN = frozenset("+-＋－")
_NUMBER = re.compile(r"[+\-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+\-]?\d+)?")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def needs_prefix(text: str) -> bool:
    """True when a spreadsheet program could take ``text`` as a formula."""
    if not text:
        return False
    if text[0] in _ALWAYS:
        return True
    head = text.lstrip()
    if not head:
        return False
    if head[0] in _FORMULA:
        return True
    return head[0] in _SIGN and len(head) > 1 and not _NUMBER.fullmatch(head)


def _escaped(text: str) -> bool:
    """``'`` followed by a text that was (or would have been) prefixed: :func:`restore` removes one ``'``."""
    while text.startswith(PREFIX):
        text = text[1:]
        if needs_prefix(text):
            return True
    return False


def csv_text(value: object) -> str:
    """One CSV cell: None → empty, numbers as written by ``str``, text quote-prefixed when needed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)
    return PREFIX + text if needs_prefix(text) or _escaped(text) else text


def csv_row(values: Iterable[object]) -> list[str]:
    return [csv_text(v) for v in values]


def csv_bytes(rows: Iterable[Iterable[object]]) -> bytes:
    """CSV in UTF-8 with a BOM and CRLF line ends (Excel opens Japanese text correctly), every cell
    through :func:`csv_text`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(csv_row(row))
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def restore(text: str) -> str:
    """The text a CSV cell held before :func:`csv_text` prefixed it (unchanged when it was not)."""
    return text[1:] if _escaped(text) else text


def xlsx_value(value: object) -> object:
    """A value openpyxl may store: text without the characters XML cannot hold; other values unchanged."""
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    return value


def _fill(cell: Any, value: object) -> Any:
    value = xlsx_value(value)
    cell.value = value if value != "" else None
    if isinstance(value, str) and value:
        cell.data_type = "s"  # openpyxl made "=…" a formula and "#N/A" an error: text it is
        if needs_prefix(value):
            cell.quotePrefix = True
    return cell


def xlsx_row(sheet: Any, values: Iterable[object]) -> list[Any]:
    """Cells for ``sheet.append`` (normal and write-only worksheets): text as explicit strings."""
    from openpyxl.cell.cell import Cell

    return [_fill(Cell(sheet, row=1, column=1), v) for v in values]


def xlsx_put(sheet: Any, row: int, column: int, value: object) -> Any:
    """Set one cell of a normal worksheet the same way; returns it (to style it)."""
    return _fill(sheet.cell(row=row, column=column), value)
