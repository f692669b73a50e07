"""Answers in bulk: a CSV, YAML or XLSX file with one answer per row (``mamori assess answer ID --from FILE``).

Columns (header names in English or Japanese, any case): ``item`` (項目, ID), ``status`` (状況), ``level``
(レベル, SSDF 0-3), ``evidence`` (証跡; several pieces one per line, or a YAML list), ``note`` (備考; stored as
the answer's reason, 理由), ``owner`` (担当) and ``due`` (期限). An empty cell leaves that field as it is, so a row
means what the same ``assess answer`` command line means, the SSDF level rule included
(:func:`mamori.compliance.assessment.status_from_level`). Statuses are read in the spellings the
questionnaire accepts (``implemented``, ``実施済``, ``実施済 / implemented`` ...).

The file is hostile: it is read within the input size limit, at most :data:`MAX_ROWS` rows and
:data:`MAX_CELL` characters per cell; a CSV cell that the formula guard prefixed is read back as written
(:func:`mamori.cells.restore`) and an XLSX formula is its text, never evaluated. A row with a problem is
rejected alone (:class:`RowProblem`, naming the file and the row); the other rows are applied together.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamori import cells
from mamori.compliance.assessment import STATUSES, Assessment, Evidence, resolve_item
from mamori.compliance.evidence import parse_evidence
from mamori.errors import InputError
from mamori.fileio import check_yaml_depth, csv_table, open_xlsx, read_bytes
from mamori.i18n import _

MAX_ROWS = 5000
MAX_CELL = 4000
FIELDS = ("item", "status", "level", "evidence", "note", "owner", "due")

_HEADERS = {
    "item": ("item", "id", "item id", "項目", "項目id", "項目番号"),
    "status": ("status", "状況", "状況 status", "回答", "実施状況"),
    "level": ("level", "レベル", "レベル level"),
    "evidence": ("evidence", "証跡", "evidence to add", "追加する証跡", "追加する証跡 evidence to add"),
    "note": ("note", "reason", "備考", "理由", "理由 reason", "メモ"),
    "owner": ("owner", "担当", "担当 owner", "担当者"),
    "due": ("due", "期限", "期限 due"),
}
_HEADER_KEYS = {
    unicodedata.normalize("NFKC", name).casefold(): key for key, names in _HEADERS.items() for name in names
}

Update = tuple[str, dict[str, Any], list[Evidence]]
_NOT_MAPPING = "\0not a mapping"  # marks a YAML entry that is not a mapping (rejected like any bad row)


@dataclass(frozen=True)
class RowProblem:
    """A rejected row: ``where`` is "row 3" (CSV/XLSX, the header being row 1) or "entry 2" (YAML)."""

    path: Path
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.problem}"


def read(assessment: Assessment, path: Path) -> tuple[list[Update], list[RowProblem], int]:
    """The rows that can be applied, the rejected ones, and the number of rows read.

    A file that cannot be read at all (size, encoding, no ``item`` column ...) is one :class:`InputError`."""
    from mamori.compliance.questionnaire import _norm, _status_lookup
    from mamori.compliance.repository import UNSET, validated_answer

    rows = _rows(path)
    statuses = _status_lookup()
    good: list[Update] = []
    problems: list[RowProblem] = []
    seen: dict[str, str] = {}
    for where, raw in rows:
        try:
            if _NOT_MAPPING in raw:
                raise InputError(None, _("not a mapping with item, status, level, evidence, note"))
            cells_ = {key: _text(raw.get(key), key) for key in FIELDS if key != "evidence"}
            specs = _evidence(raw.get("evidence"))
            if cells_["item"] is None:
                raise InputError(None, _("no item id"))
            item = resolve_item(assessment, cells_["item"])
            if item.id in seen:
                raise InputError(
                    None, _("{item} is also on {where}").format(item=item.id, where=seen[item.id])
                )
            values: dict[str, Any] = {
                "status": UNSET,
                "level": UNSET,
                "owner": UNSET,
                "due": UNSET,
                "reason": UNSET,
            }
            if cells_["status"] is not None:
                status = statuses.get(_norm(cells_["status"]))
                if status is None:
                    raise InputError(
                        None,
                        _("status {value} is not one of {allowed}").format(
                            value=repr(cells_["status"]), allowed=", ".join(STATUSES)
                        ),
                    )
                values["status"] = status
            if cells_["level"] is not None:
                if cells_["level"] not in ("0", "1", "2", "3"):
                    raise InputError(
                        None, _("level {value} is not 0, 1, 2 or 3").format(value=repr(cells_["level"]))
                    )
                values["level"] = int(cells_["level"])
            for key, name in (("owner", "owner"), ("due", "due"), ("note", "reason")):
                if cells_[key] is not None:
                    values[name] = cells_[key]
            evidence = [parse_evidence(spec, base=path.parent) for spec in specs]
            validated_answer(assessment, item.id, values)
        except InputError as exc:
            problems.append(RowProblem(path, where, exc.problem))
            continue
        seen[item.id] = where
        good.append((item.id, values, evidence))
    return good, problems, len(rows)


def _text(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(None, _("{key}: {value!r} is not text").format(key=key, value=value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        value = value.isoformat()
    if not isinstance(value, str | int | float):
        raise InputError(
            None, _("{key}: expected text, not a {type}").format(key=key, type=type(value).__name__)
        )
    text = str(value).strip()
    if len(text) > MAX_CELL:
        raise InputError(None, _("{key}: longer than {limit} characters").format(key=key, limit=MAX_CELL))
    return text or None


def _evidence(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for entry in values:
        text = _text(entry, "evidence")
        if text:
            out += [line.strip() for line in text.splitlines() if line.strip()]
    return out


# --------------------------------------------------------------------------------------------- file formats


def _rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _yaml_rows(path)
    if suffix == ".csv":
        return _table_rows(path, _csv_table(path))
    if suffix == ".xlsx":
        return _table_rows(path, _xlsx_table(path))
    raise InputError(path, _("answers are read from a .csv, .yaml/.yml or .xlsx file"))


def _limit(path: Path, count: int) -> None:
    if count > MAX_ROWS:
        raise InputError(path, _("more than {count} rows").format(count=MAX_ROWS))


def _yaml_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    import yaml

    data = read_bytes(path)
    check_yaml_depth(data, path)
    try:
        doc = yaml.load(data.decode("utf-8-sig"), Loader=yaml.CSafeLoader)
    except UnicodeDecodeError as exc:
        raise InputError(path, _("not UTF-8 text (byte {start})").format(start=exc.start)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise InputError(
            path,
            _("invalid YAML: {where}{reason}").format(
                where=where, reason=getattr(exc, "problem", None) or exc
            ),
        ) from None
    if isinstance(doc, dict) and isinstance(doc.get("answers"), list):
        doc = doc["answers"]
    if not isinstance(doc, list):
        raise InputError(path, _("expected a list of answers (item, status, level, evidence, note)"))
    _limit(path, len(doc))
    out: list[tuple[str, dict[str, Any]]] = []
    for n, entry in enumerate(doc, start=1):
        if not isinstance(entry, dict):
            out.append((_("entry {n}").format(n=n), {_NOT_MAPPING: True}))
            continue
        row: dict[str, Any] = {}
        for name, value in entry.items():
            key = _HEADER_KEYS.get(unicodedata.normalize("NFKC", str(name)).strip().casefold())
            if key is not None:
                row[key] = value
        out.append((_("entry {n}").format(n=n), row))
    return out


def _csv_table(path: Path) -> list[list[Any]]:
    return csv_table(
        read_bytes(path), path, max_cell=MAX_CELL, cell=cells.restore, limit=lambda n: _limit(path, n)
    )


def _xlsx_table(path: Path) -> list[list[Any]]:
    wb = open_xlsx(read_bytes(path), path, data_only=False)
    try:
        from mamori.compliance.questionnaire import ITEMS_SHEET

        ws = wb[ITEMS_SHEET] if ITEMS_SHEET in wb.sheetnames else wb.worksheets[0]
        table: list[list[Any]] = []
        for row in ws.iter_rows(values_only=True):
            table.append(list(row[:64]))
            _limit(path, len(table) - 1)
        return table
    finally:
        wb.close()


def _table_rows(path: Path, table: list[list[Any]]) -> list[tuple[str, dict[str, Any]]]:
    if not table:
        raise InputError(
            path, _("empty file: expected a header row with item, status, level, evidence, note")
        )
    columns: dict[str, int] = {}
    for n, name in enumerate(table[0]):
        key = _HEADER_KEYS.get(unicodedata.normalize("NFKC", str(name or "")).strip().casefold())
        if key is not None and key not in columns:
            columns[key] = n
    if "item" not in columns:
        raise InputError(path, _("the header row has no 'item' column (item, status, level, evidence, note)"))
    out: list[tuple[str, dict[str, Any]]] = []
    for number, record in enumerate(table[1:], start=2):
        if not any(cell not in (None, "") for cell in record):
            continue
        out.append(
            (
                _("row {n}").format(n=number),
                {k: record[n] if n < len(record) else None for k, n in columns.items()},
            )
        )
    return out
