"""Which column of a vendor's component list holds which model field (data/sbom/component_columns.yaml)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from mamori.errors import InputError
from mamori.i18n import _
from mamori.sbom.data import load_data
from mamori.sbom.spreadsheet.table import Sheet, label_variants, norm_label

HEADER_SCAN_ROWS = 20


@dataclass(slots=True)
class HeaderMap:
    row: int  # 1-based row number of the header row
    columns: dict[int, str]  # column index -> field
    headers: list[str]  # the header row's cells


@functools.cache
def _data() -> dict:
    return load_data("component_columns.yaml")


def known_fields() -> tuple[str, ...]:
    return tuple(_data()["fields"])


@functools.cache
def _alias_table() -> dict[str, tuple[str, int]]:
    table: dict[str, tuple[str, int]] = {}
    for fld, aliases in _data()["fields"].items():
        for rank, alias in enumerate([fld, *aliases]):
            table.setdefault(norm_label(str(alias)), (fld, rank))
    return table


@functools.cache
def value_table(kind: str) -> dict[str, str]:
    """``types`` or ``scopes``: folded cell value -> model value."""
    return {norm_label(str(a)): value for value, aliases in _data()[kind].items() for a in [value, *aliases]}


@functools.cache
def ignored_headers() -> frozenset[str]:
    """Folded headers of row-number columns ("No.", "項番" ...), which are not kept."""
    return frozenset(norm_label(str(h)) for h in _data().get("ignore", ()))


def check_overrides(overrides: dict[str, str], path: Path) -> None:
    unknown = sorted(set(overrides) - set(known_fields()))
    if unknown:
        raise InputError(
            path,
            _("--columns: unknown field {unknown}; known fields: {known}").format(
                unknown=", ".join(unknown), known=", ".join(known_fields())
            ),
        )


def map_row(row: list[str], overrides: dict[str, str]) -> dict[int, str]:
    """Column index -> field for one candidate header row. ``overrides`` (field -> header) win over aliases."""
    wanted = {norm_label(header): fld for fld, header in overrides.items()}
    aliases = _alias_table()
    claimed: dict[int, tuple[str, int]] = {}
    for index, cell in enumerate(row):
        if not cell:
            continue
        variants = label_variants(cell)
        forced = next((wanted[v] for v in variants if v in wanted), None)
        if forced is not None:
            claimed[index] = (forced, -1)
            continue
        hit = next((aliases[v] for v in variants if v in aliases), None)
        if hit is not None and hit[0] not in overrides:
            claimed[index] = hit
    best: dict[str, tuple[int, int]] = {}
    for index, (fld, rank) in sorted(claimed.items()):
        if fld not in best or rank < best[fld][1]:
            best[fld] = (index, rank)
    return {index: fld for fld, (index, _) in best.items()}


def find_header(sheet: Sheet, overrides: dict[str, str]) -> HeaderMap | None:
    """The row among the first 20 that maps a name column and the most fields (titles above it are skipped)."""
    best: HeaderMap | None = None
    for number, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS], 1):
        columns = map_row(row, overrides)
        if "name" in columns.values() and (best is None or len(columns) > len(best.columns)):
            best = HeaderMap(number, columns, row)
    return best


def seen_headers(sheet: Sheet) -> list[str]:
    """The likeliest header row's cells (the fullest of the first rows), for error messages."""
    rows = sheet.rows[:HEADER_SCAN_ROWS]
    if not rows:
        return []
    fullest = max(rows, key=lambda r: sum(1 for c in r if c))
    return [c for c in fullest if c][:20]


def check_mapped(header: HeaderMap, overrides: dict[str, str], sheet: Sheet, path: Path) -> None:
    missing = [f"{fld}={h}" for fld, h in overrides.items() if fld not in header.columns.values()]
    if missing:
        raise InputError(
            path,
            _("--columns: no column headed {missing} in {where}; headers there: {headers}").format(
                missing=", ".join(missing),
                where=sheet.where(header.row),
                headers=", ".join(c for c in header.headers if c),
            ),
        )
