"""What a row may hold, checked in Python per record before it is written: SQLite and PostgreSQL
then store the same thing.

Left to the drivers, a value the column does not take is handled differently by each backend:
SQLite aborts the whole batch on a list, PostgreSQL turns it into an array literal (``{Known}``);
PostgreSQL refuses a string longer than its ``VARCHAR(n)`` column or holding a NUL character, which
SQLite stores. :func:`row_problem` tells, for one row, the first column whose value the store would
not take as it is; the importer rejects that one record (:func:`record_problem`) and writes the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Float, Integer, LargeBinary, String, Table

from mamori.model import merge
from mamori.model.vulnerability import SourceRef
from mamori.store import schema
from mamori.store.documents import Outline, Prepared

_Rule = tuple[tuple[type, ...], int | None, bool]  # accepted types, length limit, nullable


@dataclass(frozen=True, slots=True)
class RowProblem:
    """``column`` of ``table`` would not store ``value``: ``limit`` is set when the text is too long;
    ``nul`` when it holds a NUL character or cannot be encoded; else the type is wrong."""

    table: str
    column: str
    value: Any
    limit: int | None = None
    nul: bool = False


def _rule(column: Any) -> _Rule:
    kind = column.type
    if isinstance(kind, LargeBinary):
        types: tuple[type, ...] = (bytes, bytearray, memoryview)
    elif isinstance(kind, Boolean):
        types = (bool,)
    elif isinstance(kind, Integer):
        types = (int,)
    elif isinstance(kind, Float):
        types = (float, int)
    else:
        types = (str,)
    length = kind.length if isinstance(kind, String) else None
    return types, length, bool(column.nullable)


_RULES: dict[str, dict[str, _Rule]] = {}


def _rules(table: Table) -> dict[str, _Rule]:
    rules = _RULES.get(table.name)
    if rules is None:
        rules = _RULES[table.name] = {c.name: _rule(c) for c in table.columns}
    return rules


def row_problem(table: Table, row: Mapping[str, Any]) -> RowProblem | None:
    """The first value of ``row`` that ``table`` would not store as it is, or None."""
    rules = _rules(table)
    for column, value in row.items():
        kind = type(value)
        if kind is str:  # the values that come from input: checked first and quickly
            types, length, _ = rules[column]
            if str not in types:
                return RowProblem(table.name, column, value)
            if length is not None and len(value) > length:
                return RowProblem(table.name, column, value, limit=length)
            if "\x00" in value or not (value.isascii() or _encodable(value)):
                return RowProblem(table.name, column, value, nul=True)
        elif value is None:
            if not rules[column][2]:
                return RowProblem(table.name, column, value)
        elif kind not in rules[column][0]:
            return RowProblem(table.name, column, value)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def fit_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as ``table`` stores it the same on every backend: a NUL character or a lone
    surrogate in a text becomes U+FFFD, and a text too long for an optional short column (an
    identifier the store indexes, such as a purl type) is left out. What is still wrong for the
    column (a required text too long, a wrong type) is left for :func:`row_problem` to tell."""
    rules = _rules(table)
    out = row
    for column, value in row.items():
        if type(value) is not str:
            continue
        fixed: str | None = storable_text(value)
        _, length, nullable = rules[column]
        if length is not None and fixed is not None and len(fixed) > length and nullable:
            fixed = None
        if fixed is not value:
            out = dict(out) if out is row else out
            out[column] = fixed
    return out


def storable_text(value: str) -> str:
    """``value`` as every backend stores it: NUL (PostgreSQL refuses it in text) and lone surrogates
    (no backend can encode them) become U+FFFD; any other text is returned as it is."""
    if "\x00" not in value and (value.isascii() or _encodable(value)):
        return value
    return value.replace("\x00", "\ufffd").encode("utf-8", "surrogatepass").decode("utf-8", "replace")


_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def has_nul(doc: bytes) -> bool:
    """Whether a record's JSON document holds a NUL character (orjson writes it ``\\u0000``): one
    scan of the document, so the index rows of the few records that do are checked whole."""
    return b"\\u0000" in doc and _NUL_ESCAPE.search(doc) is not None  # not an escaped backslash


_LIMITED: dict[str, tuple[tuple[str, int, bool], ...]] = {}
# index-row columns mamori fills itself, or with the record's id (checked in its source_record row)
_OURS = frozenset({"source", "origin", "part", "record_id", "vuln_id"})


def _limited_problem(table: Table, rows: list[dict[str, Any]]) -> RowProblem | None:
    """Like :func:`rows_problem` for index rows made by mamori from a checked record: only the
    columns with a length limit are looked at (their texts come from the record, whose document
    told whether any holds NUL: :func:`has_nul`), which keeps the check of large records cheap."""
    limited = _LIMITED.get(table.name)
    if limited is None:
        limited = _LIMITED[table.name] = tuple(
            (name, length, nullable)
            for name, (_, length, nullable) in _rules(table).items()
            if length and name not in _OURS
        )
    for row in rows:
        for column, length, nullable in limited:
            value = row.get(column)
            if type(value) is str:
                if len(value) > length:
                    return RowProblem(table.name, column, value, limit=length)
            elif value is not None or not nullable:
                return RowProblem(table.name, column, value)
    return None


def rows_problem(table: Table, rows: list[dict[str, Any]]) -> RowProblem | None:
    for row in rows:
        problem = row_problem(table, row)
        if problem is not None:
            return problem
    return None


def record_problem(record: Prepared) -> RowProblem | None:
    """The first value of one prepared vulnerability record's rows (its source record, merged
    vulnerability, aliases, affected packages and CPEs) that the store would not take, or None."""
    v = record.vulnerability
    ref: SourceRef = v.sources[0]
    dates = {"modified": v.modified, "withdrawn": v.withdrawn}
    source = {"source": ref.source, "record_id": v.id, "feed": ref.feed, "vuln_id": v.id, **dates}
    problem = row_problem(schema.SourceRecord.__table__, source)
    if problem is None:
        problem = row_problem(schema.Vulnerability.__table__, {"id": v.id, "published": v.published, **dates})
    aliases = schema.Alias.__table__
    for identifier in v.aliases:
        if problem is not None:
            break
        problem = row_problem(aliases, {"alias": identifier})
        if problem is None and isinstance(identifier, str):
            problem = row_problem(aliases, {"alias_key": merge.key(identifier)})
    if problem is None and isinstance(v, Outline):
        check = rows_problem if record.nul else _limited_problem  # NUL: see :func:`has_nul`
        problem = check(schema.AffectedPackage.__table__, v.package_rows) or check(
            schema.AffectedCpe.__table__, v.cpe_rows
        )
    return problem


def kev_row(entry: Any) -> dict[str, Any]:
    """The ``kev`` row of a KEV entry, without its document."""
    return {
        "cve_id": entry.cve_id,
        "date_added": entry.date_added,
        "due_date": entry.due_date,
        "known_ransomware_use": entry.known_ransomware_use,
    }


def epss_row(entry: Any) -> dict[str, Any]:
    return {"cve_id": entry.cve_id, "score": entry.score, "percentile": entry.percentile, "date": entry.date}


def link_row(link: Any) -> dict[str, Any]:
    """The ``purl_cpe`` row of a judged purl2cpe link."""
    return {
        "purl_type": link.purl_type,
        "purl_namespace": link.purl_namespace,
        "purl_name": link.purl_name,
        "purl": link.purl,
        "cpe_vendor": link.cpe_vendor,
        "cpe_product": link.cpe_product,
        "strength": link.strength,
        "rule": link.rule,
    }


__all__ = [
    "RowProblem",
    "epss_row",
    "kev_row",
    "link_row",
    "record_problem",
    "row_problem",
    "rows_problem",
]
