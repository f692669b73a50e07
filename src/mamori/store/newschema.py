"""The newest schema as DDL, for setting up a brand-new store without loading every feature's table
module (importing them took most of the time of creating a new store: the portfolio's tables bring in
the matcher).

``data/store/schema-<dialect>.sql`` is what ``create_all`` of the shared metadata emits for that
dialect (:func:`generate`), headed by the revision it stands for. It is used only when that revision is
this mamori's head; otherwise (a migration added and the files not written again) the new store is
created from the metadata itself. ``python tools/new_schema.py`` writes the files again (and the
column rules imports check records against, ``data/store/columns.json``: :mod:`mamori.store.limits`);
tests/test_store_new_schema.py proves them equal to what the metadata emits now, and the resulting
schema identical to the migrated one on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: a new SQLite store is made from the shipped text without them
    from sqlalchemy import MetaData, Table

DATA = Path(__file__).resolve().parents[1] / "data" / "store"
HEADER = "-- revision: "
SEPARATOR = ";\n\n"
DIALECTS = ("sqlite", "postgresql")
VERSION_TABLE = "alembic_version"


def path(dialect: str) -> Path:
    return DATA / f"schema-{dialect}.sql"


def version_table(metadata: MetaData | None = None) -> Table:
    """Alembic's own version table, as Alembic creates it (``alembic.runtime.migration``)."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table

    return Table(
        VERSION_TABLE,
        metadata if metadata is not None else MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )


def generate(dialect: str) -> list[str]:
    """The statements that create every table of the store with its indexes for ``dialect``, as
    ``create_all`` emits them, in an order that does not depend on which feature's module was imported
    first: tables by name within the order their foreign keys require, each table's indexes by name;
    Alembic's version table last."""
    from sqlalchemy import create_mock_engine
    from sqlalchemy.schema import CreateIndex, CreateTable, sort_tables_and_constraints

    from mamori.store.registry import all_metadata

    engine = create_mock_engine(f"{dialect}://", lambda sql, *a, **k: None)
    statements: list[str] = []
    tables = sorted(all_metadata().tables.values(), key=lambda t: t.name)
    for table, constraints in sort_tables_and_constraints(tables):
        if table is None:  # foreign keys in a cycle would need ALTER statements: none in this schema
            if constraints:
                raise ValueError(f"foreign keys in a cycle: {constraints}")
            continue
        statements.append(_text(CreateTable(table), engine))
        statements.extend(
            _text(CreateIndex(i), engine) for i in sorted(table.indexes, key=lambda i: str(i.name))
        )
    statements.append(_text(CreateTable(version_table()), engine))
    return statements


def _text(sql: object, engine: object) -> str:
    compiled = sql.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in str(compiled).strip().splitlines())


def render(dialect: str, revision: str) -> str:
    return f"{HEADER}{revision}\n\n" + SEPARATOR.join(generate(dialect)) + ";\n"


def shipped(dialect: str, revision: str) -> list[str] | None:
    """The shipped statements for ``dialect`` when they stand for ``revision``, else None."""
    try:
        text = path(dialect).read_text(encoding="utf-8")
    except OSError:
        return None
    first, _sep, body = text.partition("\n\n")
    if first != HEADER + revision:
        return None
    return [s for s in body.strip().removesuffix(";").split(SEPARATOR) if s.strip()]
