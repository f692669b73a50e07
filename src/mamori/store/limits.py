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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mamori.model import merge
from mamori.model.vulnerability import SourceRef
from mamori.store.documents import Outline, Prepared

if TYPE_CHECKING:
    from sqlalchemy import Table

_Rule = tuple[tuple[type, ...], int | None, bool]  # accepted types, length limit, nullable
# A column's rule as data: the kind of value it takes, its length limit, whether it may be NULL.
ColumnRule = tuple[str, int | None, bool]
_KINDS: dict[str, tuple[type, ...]] = {
    "bytes": (bytes, bytearray, memoryview),
    "bool": (bool,),
    "int": (int,),
    "float": (float, int),
    "str": (str,),
}
#: the rules of every table's columns for the newest revision, as :func:`column_rules` makes them from the
#: tables' metadata (``python tools/new_schema.py`` writes the file again): the import workers check
#: records without importing SQLAlchemy and the table modules (a third of a small import's start-up)
COLUMNS = Path(__file__).resolve().parents[1] / "data" / "store" / "columns.json"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """``column`` of ``table`` would not store ``value``: ``limit`` is set when the text is too long;
    ``nul`` when it holds a NUL character or cannot be encoded; else the type is wrong."""

    table: str
    column: str
    value: Any
    limit: int | None = None
    nul: bool = False


def column_rule(column: Any) -> ColumnRule:
    """What a column of the tables' metadata takes: kind of value, length limit, nullable."""
    from sqlalchemy import Boolean, Float, Integer, LargeBinary, String

    kind = column.type
    if isinstance(kind, LargeBinary):
        name = "bytes"
    elif isinstance(kind, Boolean):
        name = "bool"
    elif isinstance(kind, Integer):
        name = "int"
    elif isinstance(kind, Float):
        name = "float"
    else:
        name = "str"
    length = kind.length if isinstance(kind, String) else None
    return name, length, bool(column.nullable)


def column_rules(table: Table) -> dict[str, ColumnRule]:
    return {c.name: column_rule(c) for c in table.columns}


def render_columns(revision: str) -> str:
    """The shipped rules (:data:`COLUMNS`) for ``revision``: every table of the store, by name."""
    from mamori.store.registry import all_metadata

    tables = [
        f'    "{name}": {{\n'
        + ",\n".join(
            f"      {orjson.dumps(c).decode()}: {orjson.dumps(r).decode()}"
            for c, r in column_rules(t).items()
        )
        + "\n    }"
        for name, t in sorted(all_metadata().tables.items())
    ]  # one line per column
    head = f'{{\n  "revision": {orjson.dumps(revision).decode()},\n  "tables": {{\n'
    return head + ",\n".join(tables) + "\n  }\n}\n"


def shipped_columns() -> dict[str, dict[str, ColumnRule]] | None:
    """The shipped rules when they stand for this mamori's newest revision, else None."""
    from mamori.store.engine import head_revision

    try:
        data = orjson.loads(COLUMNS.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("revision") != head_revision():
        return None
    return {t: {c: (r[0], r[1], r[2]) for c, r in columns.items()} for t, columns in data["tables"].items()}


_RULES: dict[str, dict[str, _Rule]] = {}
_SHIPPED: list[dict[str, dict[str, ColumnRule]] | None] = []  # read once


def _table_rules(name: str) -> dict[str, ColumnRule]:
    if not _SHIPPED:
        _SHIPPED.append(shipped_columns())
    shipped = _SHIPPED[0]
    if shipped is not None and name in shipped:
        return shipped[name]
    from mamori.store import schema  # the file is not this revision's: the metadata itself

    table = schema.Base.metadata.tables.get(name)
    if table is None:
        from mamori.store.registry import all_metadata

        table = all_metadata().tables[name]
    return column_rules(table)


def _rules(table: Table | str) -> dict[str, _Rule]:
    """The rules of a table's columns, by the table or its name."""
    name = table if isinstance(table, str) else table.name
    rules = _RULES.get(name)
    if rules is None:
        found = _table_rules(name) if isinstance(table, str) else column_rules(table)
        rules = _RULES[name] = {
            c: (_KINDS[kind], length, nullable) for c, (kind, length, nullable) in found.items()
        }
    return rules


def _name(table: Table | str) -> str:
    return table if isinstance(table, str) else table.name


def row_problem(table: Table | str, row: Mapping[str, Any]) -> RowProblem | None:
    """The first value of ``row`` that ``table`` (the table or its name) would not store as it is, or None."""
    rules = _rules(table)
    name = _name(table)
    for column, value in row.items():
        kind = type(value)
        if kind is str:  # the values that come from input: checked first and quickly
            types, length, _ = rules[column]
            if str not in types:
                return RowProblem(name, column, value)
            if length is not None and len(value) > length:
                return RowProblem(name, column, value, limit=length)
            if "\x00" in value or not (value.isascii() or _encodable(value)):
                return RowProblem(name, column, value, nul=True)
        elif value is None:
            if not rules[column][2]:
                return RowProblem(name, column, value)
        elif kind not in rules[column][0]:
            return RowProblem(name, column, value)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def fit_row(table: Table | str, row: dict[str, Any]) -> dict[str, Any]:
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


def _limited(table: Table | str) -> tuple[tuple[str, int, bool], ...]:
    limited = _LIMITED[_name(table)] = tuple(
        (column, length, nullable)
        for column, (_, length, nullable) in _rules(table).items()
        if length and column not in _OURS
    )
    return limited


def _limited_problem(table: Table | str, rows: list[dict[str, Any]]) -> RowProblem | None:
    """Like :func:`rows_problem` for index rows made by mamori from a checked record: only the
    columns with a length limit are looked at (their texts come from the record, whose document
    told whether any holds NUL: :func:`has_nul`), which keeps the check of large records cheap."""
    name = _name(table)
    limited = _LIMITED.get(name) or _limited(table)
    for row in rows:
        for column, length, nullable in limited:
            value = row.get(column)
            if type(value) is str:
                if len(value) > length:
                    return RowProblem(name, column, value, limit=length)
            elif value is not None or not nullable:
                return RowProblem(name, column, value)
    return None


def rows_problem(table: Table | str, rows: list[dict[str, Any]]) -> RowProblem | None:
    for row in rows:
        problem = row_problem(table, row)
        if problem is not None:
            return problem
    return None


RECORD_TABLES = ("source_record", "vulnerability", "alias", "affected_package", "affected_cpe")


def load_record_rules() -> None:
    """Read the rules :func:`record_problem` checks against now (before forking import workers, which
    then share them instead of each reading them)."""
    for name in RECORD_TABLES:
        _rules(name)
        _limited(name)


def record_problem(record: Prepared) -> RowProblem | None:
    """The first value of one prepared vulnerability record's rows (its source record, merged
    vulnerability, aliases, affected packages and CPEs) that the store would not take, or None."""
    v = record.vulnerability
    ref: SourceRef = v.sources[0]
    dates = {"modified": v.modified, "withdrawn": v.withdrawn}
    source = {"source": ref.source, "record_id": v.id, "feed": ref.feed, "vuln_id": v.id, **dates}
    problem = row_problem("source_record", source)
    if problem is None:
        problem = row_problem("vulnerability", {"id": v.id, "published": v.published, **dates})
    aliases = "alias"
    for identifier in v.aliases:
        if problem is not None:
            break
        problem = row_problem(aliases, {"alias": identifier})
        if problem is None and isinstance(identifier, str):
            problem = row_problem(aliases, {"alias_key": merge.key(identifier)})
    if problem is None and isinstance(v, Outline):
        check = rows_problem if record.nul else _limited_problem  # NUL: see :func:`has_nul`
        problem = check("affected_package", v.package_rows) or check("affected_cpe", v.cpe_rows)
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
