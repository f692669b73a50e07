"""Asset lists in and out: ``mamori inventory import FILE`` (CSV or XLSX) and ``export -o FILE``.

Import reads a header row and one deployment per row. Headers are matched without regard to case, width
or spaces, in English or Japanese (``product``/``製品``, ``release``/``version``/``バージョン``,
``site``/``拠点`` …; :data:`HEADERS`). A row whose product release is not stored, whose values are not
SSVC values or dates, or whose cell holds a formula (``=…``; mamori never evaluates one) is rejected
alone with its row number; the good rows are added together in one transaction. The file is bounded in
size (the input limit) and in rows (:data:`MAX_ROWS`); an XLSX workbook is checked before it is parsed
(``mamori.fileio.check_xlsx``) and read without evaluating anything (formulas come back as their text).

Export writes every deployment (active and retired) as CSV or XLSX through :mod:`mamori.cells`, so that
no cell becomes a formula in a spreadsheet, to a temporary file renamed into place.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori import cells
from mamori.display import visible
from mamori.errors import InputError
from mamori.fileio import atomic_writer, csv_table, open_xlsx, read_bytes
from mamori.i18n import _
from mamori.inventory.deployments import FIELDS, checked_fields, list_deployments
from mamori.store import Store

MAX_ROWS = 20_000
MAX_CELL = 4000
MAX_COLUMNS = 64
HEADERS: dict[str, str] = {
    "product": "product",
    "製品": "product",
    "製品名": "product",
    "release": "release",
    "version": "release",
    "リリース": "release",
    "バージョン": "release",
    "site": "site",
    "拠点": "site",
    "設置場所": "site",
    "system": "system",
    "システム": "system",
    "environment": "environment",
    "環境": "environment",
    "system_exposure": "system_exposure",
    "exposure": "system_exposure",
    "露出": "system_exposure",
    "システムの露出": "system_exposure",
    "mission_impact": "mission_impact",
    "業務への影響": "mission_impact",
    "safety_impact": "safety_impact",
    "安全への影響": "safety_impact",
    "network": "network",
    "ネットワーク": "network",
    "owner": "owner",
    "担当者": "owner",
    "deployed_since": "deployed_since",
    "導入日": "deployed_since",
    "end_of_support": "end_of_support",
    "サポート終了日": "end_of_support",
}
EXPORT_COLUMNS = (
    "id",
    "product",
    "release",
    *FIELDS,
    "release_end_of_support",
    "status",
    "retired_at",
)


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    added: list[int] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # "FILE: row N: problem"

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "added": self.added, "rejected": self.rejected}


def _key(name: Any) -> str | None:
    text = (
        unicodedata.normalize("NFKC", str(name or "")).strip().casefold().replace(" ", "_").replace("-", "_")
    )
    return HEADERS.get(text)


def _limit(path: Path, count: int) -> None:
    if count > MAX_ROWS:
        raise InputError(path, _("more than {count} rows").format(count=MAX_ROWS))


def _csv_table(path: Path, data: bytes) -> list[list[Any]]:
    return csv_table(
        data,
        path,
        max_cell=MAX_CELL,
        cell=_csv_cell,
        limit=lambda n: _limit(path, n),
        max_columns=MAX_COLUMNS,
    )


def _xlsx_table(path: Path, data: bytes) -> list[list[Any]]:
    wb = open_xlsx(data, path, data_only=False)
    try:
        table: list[list[Any]] = []
        for row in wb.worksheets[0].iter_rows():
            table.append(_read_row(row))
            _limit(path, len(table) - 1)
        return table
    finally:
        wb.close()


def _read_row(row: Any) -> list[Any]:
    """A worksheet row's values; a formula cell stays a :class:`Formula` (refused later, never evaluated)."""
    return [
        Formula(str(c.value)) if getattr(c, "data_type", None) == "f" else c.value for c in row[:MAX_COLUMNS]
    ]


def read_table(path: Path) -> list[list[Any]]:
    """The rows of a CSV or XLSX file (by its suffix), bounded in size and rows."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(path, _("an asset list is read from a .csv or .xlsx file"))
    data = read_bytes(path)
    return _csv_table(path, data) if suffix == ".csv" else _xlsx_table(path, data)


class Formula(str):
    """A cell a spreadsheet would compute: an XLSX formula cell, or a CSV cell starting with ``=`` (a
    quote-prefixed one, as :mod:`mamori.cells` writes text, is text)."""


def _csv_cell(raw: str) -> str:
    if unicodedata.normalize("NFKC", raw[:1]) == "=":
        return Formula(raw)
    return cells.restore(raw)


def _cell(value: Any) -> Any:
    """A cell's value; a formula is refused (its text is never evaluated)."""
    if isinstance(value, Formula):
        raise InputError(
            None, _("a formula ({text}); mamori does not evaluate formulas").format(text=visible(value[:40]))
        )
    if isinstance(value, str) and len(value) > MAX_CELL:
        raise InputError(None, _("a cell longer than {limit} characters").format(limit=MAX_CELL))
    return value


def import_file(
    store: Store,
    path: Path,
    *,
    who: str | None = None,
    product_ids: Iterable[int] | None = None,
    shown: str | None = None,
) -> ImportReport:
    """Add the deployments of an asset list; each bad row rejected alone (see the module's text).
    ``product_ids``: only releases of these products are taken (the server's team scope; a row of another
    product is rejected as one of a product that does not exist); ``shown``: the name the rejections give
    the file (an upload's name rather than the temporary file's)."""
    from mamori.inventory.deployments import _insert, _who
    from mamori.portfolio.archive import no_product, product_id, release_id
    from mamori.store.writer import now

    table = read_table(path)
    if not table:
        raise InputError(path, _("empty file: expected a header row with product, release, site …"))
    columns: dict[str, int] = {}
    for n, name in enumerate(table[0]):
        key = _key(name)
        if key is not None and key not in columns:
            columns[key] = n
    missing = [c for c in ("product", "release", "site") if c not in columns]
    if missing:
        raise InputError(
            path, _("the header row lacks the columns {columns}").format(columns=", ".join(missing))
        )
    allowed = None if product_ids is None else set(product_ids)
    label = shown if shown is not None else str(path)
    report = ImportReport()
    good: list[tuple[int, str, str, dict[str, Any]]] = []
    for number, record in enumerate(table[1:], start=2):
        if not any(cell not in (None, "") for cell in record):
            continue
        report.rows += 1
        try:
            raw = {k: _cell(record[n]) if n < len(record) else None for k, n in columns.items()}
            product = str(raw.pop("product") or "").strip()
            release = str(raw.pop("release") or "").strip()
            if not product or not release:
                raise InputError(None, _("product and release are required"))
            good.append((number, product, release, checked_fields(raw)))
        except InputError as exc:
            report.rejected.append(
                f"{label}: " + _("row {n}: {problem}").format(n=number, problem=exc.problem)
            )
    who = _who(who)
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        at = now()
        for number, product, release, values in good:
            try:
                if allowed is not None and product_id(conn, product) not in allowed:
                    raise no_product(product)
                rid = release_id(conn, product, release)
            except InputError as exc:
                report.rejected.append(
                    f"{label}: " + _("row {n}: {problem}").format(n=number, problem=exc.problem)
                )
                continue
            report.added.append(_insert(conn, rid, values, who, at))
    return report


def export_rows(store: Store, product_ids: Iterable[int] | None = None) -> list[list[Any]]:
    """The header row and every deployment (of ``product_ids``: the server's team scope)."""
    rows: list[list[Any]] = [list(EXPORT_COLUMNS)]
    for d in list_deployments(store, status=None, product_ids=product_ids):
        rows.append(_export_row(d.as_dict()))
    return rows


def _export_row(data: dict[str, Any]) -> list[Any]:
    """A deployment's values in the order of :data:`EXPORT_COLUMNS` (the writers put them in cells
    through :mod:`mamori.cells`)."""
    return [data.get(c) for c in EXPORT_COLUMNS]


def export_file(store: Store, path: Path, fmt: str | None = None) -> int:
    """Write every deployment to ``path`` as ``fmt`` (csv or xlsx; default: the file's suffix, else csv);
    returns how many."""
    fmt = fmt or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
    rows = export_rows(store)
    data = table_bytes(rows, fmt)
    with atomic_writer(path, "wb") as out:
        out.write(data)
    return len(rows) - 1


def export_bytes(store: Store, fmt: str, product_ids: Iterable[int] | None = None) -> bytes:
    """The asset list (of ``product_ids``) as the bytes of a csv or xlsx file."""
    return table_bytes(export_rows(store, product_ids), fmt)


def table_bytes(rows: list[list[Any]], fmt: str) -> bytes:
    """``rows`` as a csv or xlsx file, every cell through :mod:`mamori.cells` (no cell becomes a formula)."""
    if fmt not in ("csv", "xlsx"):
        raise InputError(None, _("the asset list is written as csv or xlsx"))
    if fmt == "csv":
        return cells.csv_bytes(rows)
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "inventory"
    for row in rows:
        ws.append(cells.xlsx_row(ws, row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
