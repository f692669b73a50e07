"""A brand-new store is created from the tables' metadata and stamped at the head revision
(:func:`mamori.store.engine.create_new`) instead of replaying every migration: its schema is the migrated
one, table by table, column by column, index by index, constraint by constraint, on SQLite and (when
MAMORI_TEST_PG_URL is set) PostgreSQL."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, inspect, text

from mamori.match.purl2cpe import link_key, load_links_of
from mamori.store import engine as engines
from mamori.store import newschema, open_store
from mamori.store.query import SQUASHED_NAME
from mamori.store.throwaway import throwaway_postgres

PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]


@pytest.fixture(params=BACKENDS)
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two new, empty databases of the same backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "migrated.db"), str(tmp_path / "created.db")
        return
    assert PG_URL
    with throwaway_postgres(PG_URL) as first, throwaway_postgres(PG_URL) as second:
        yield first, second


def _migrate_by_replay(url: str) -> None:
    """Every migration from the first, as Alembic runs them (what opening a store did before)."""
    engine = engines.create(engines.resolve_url(url))
    try:
        config = engines.alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def _schema(engine: Engine) -> dict[str, Any]:
    """Everything the database says about its tables, in a comparable form (on SQLite with the
    statement of each index, which also holds the expression indexes SQLAlchemy does not reflect)."""
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        found = inspect(conn)
        out: dict[str, Any] = {}
        for table in sorted(found.get_table_names()):
            columns = {
                c["name"]: {
                    "type": str(c["type"]),
                    "nullable": c["nullable"],
                    "default": c.get("default"),
                    "autoincrement": c.get("autoincrement"),
                }
                for c in found.get_columns(table)
            }
            out[table] = {
                "columns": columns,
                "column order": list(columns),
                "primary_key": found.get_pk_constraint(table),
                "indexes": sorted(
                    (
                        i["name"],
                        tuple(i["column_names"]),
                        bool(i["unique"]),
                        # a partial index's condition is reflected as a clause: compared as its SQL
                        tuple(sorted((k, str(v)) for k, v in (i.get("dialect_options") or {}).items())),
                    )
                    for i in found.get_indexes(table)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"])) for u in found.get_unique_constraints(table)
                ),
                "foreign_keys": sorted(
                    (
                        f["name"] or "",
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                        tuple(sorted((f.get("options") or {}).items())),
                    )
                    for f in found.get_foreign_keys(table)
                ),
                "checks": sorted((c["name"] or "", c["sqltext"]) for c in found.get_check_constraints(table)),
            }
        if engine.dialect.name == "sqlite":  # SQLAlchemy does not reflect SQLite's expression indexes
            out["sqlite index definitions"] = sorted(
                tuple(r)
                for r in conn.execute(
                    text(
                        "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                    )
                )
            )
        out["alembic_version rows"] = [
            tuple(r) for r in conn.execute(text("SELECT version_num FROM alembic_version")).fetchall()
        ]
    return out


@pytest.mark.parametrize("how", ["shipped DDL", "metadata"])
def test_a_new_store_is_created_at_head_with_the_migrated_schema(
    two_urls: tuple[str, str], how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrated_url, created_url = two_urls
    if how == "metadata":  # the shipped DDL stands for another revision: create_all from the metadata
        monkeypatch.setattr(newschema, "shipped", lambda dialect, revision: None)
    _migrate_by_replay(migrated_url)
    with open_store(created_url) as store:  # a new, empty database: created from the metadata
        created = _schema(store.engine)
    migrated_engine = create_engine(engines.resolve_url(migrated_url))
    try:
        migrated = _schema(migrated_engine)
    finally:
        migrated_engine.dispose()
    assert created["alembic_version rows"] == [(engines.head_revision(),)]
    assert set(created) == set(migrated)
    for table in migrated:  # one table at a time, so a difference names its table
        assert created[table] == migrated[table], table


def test_a_new_store_is_set_up_without_replaying_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def replay(*args: object, **kwargs: object) -> None:
        raise AssertionError("a new store replayed the migrations")

    monkeypatch.setattr(command, "upgrade", replay)
    with open_store(tmp_path / "new.db") as store:
        assert store.status()["vulnerabilities"] == 0
        assert engines.current_revision(store.engine) == engines.head_revision()


def test_an_empty_file_and_an_existing_store_still_open(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with open_store(path) as store:
        assert engines.current_revision(store.engine) == engines.head_revision()
    with open_store(path) as again:  # current: nothing to do
        assert again.status()["vulnerabilities"] == 0


# Columns that say when something happened (the clock of the run), or which import run noted a change
# (knowledge_change's random token), not what was stored.
_CLOCK = {"updated_at", "complete_at", "partial_at", "token"}
_SUBSETS = (("osv", "pypi", "django"), ("osv", "pypi", "apache-airflow"), ("cve5", "2016", "0xxx"))


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (records, aliases, index rows, coverage...), in a stable order."""
    engine = create_engine(engines.resolve_url(url))
    try:
        with engine.connect() as conn:
            out = {}
            for table in sorted(inspect(conn).get_table_names()):
                columns = [c["name"] for c in inspect(conn).get_columns(table) if c["name"] not in _CLOCK]
                listed = ", ".join(f'"{c}"' for c in columns)
                rows = conn.execute(text(f'SELECT {listed} FROM "{table}"')).fetchall()
                out[table] = sorted((tuple(r) for r in rows), key=repr)
            return out
    finally:
        engine.dispose()


def test_imports_store_the_same_in_a_new_store_as_in_a_migrated_one(
    two_urls: tuple[str, str], shared_data: Path
) -> None:
    """The same real records (OSV PyPI advisories, merged by alias, and CVE 5 records) imported into a
    store set up by replaying the migrations and into one created from the metadata: the same rows."""
    from mamori.vulndb import import_path

    migrated_url, created_url = two_urls
    _migrate_by_replay(migrated_url)
    for url in (migrated_url, created_url):
        with open_store(url) as store:
            for parts in _SUBSETS:
                summary = import_path(store, shared_data.joinpath(*parts))
                assert summary.records > 0 and summary.complete
    migrated, created = _dump(migrated_url), _dump(created_url)
    assert len(migrated["vulnerability"]) > 100 and migrated["alias"] and migrated["affected_package"]
    assert set(created) == set(migrated)
    for table in migrated:
        assert created[table] == migrated[table], table


@pytest.mark.parametrize("dialect", newschema.DIALECTS)
def test_the_shipped_ddl_is_what_the_metadata_emits_for_the_head_revision(dialect: str) -> None:
    """Written by tools/new_schema.py: run it after adding a migration or changing a table."""
    head = engines.head_revision()
    assert head is not None
    assert newschema.path(dialect).read_text(encoding="utf-8") == newschema.render(dialect, head)
    assert newschema.shipped(dialect, head) == newschema.generate(dialect)
    assert newschema.shipped(dialect, "another") is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_store_before_the_read_indexes_gets_them_and_scans_search_them(
    backend: str, tmp_path: Path
) -> None:
    """A store at triage_origin (before revision read_indexes) opened by this mamori is migrated: the
    record and link look-ups of a scan then search indexes (SQLite's plan says so) and find the links."""

    def check(url: str) -> None:
        engine = engines.create(engines.resolve_url(url))
        try:
            config = engines.alembic_config()
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "triage_origin")
                conn.execute(
                    text(
                        "INSERT INTO purl_cpe (purl_type, purl_namespace, purl_name, purl, cpe_vendor, "
                        "cpe_product, strength, rule) VALUES ('pypi', '', 'Zope.Interface', "
                        "'pkg:pypi/zope.interface', 'zope', 'zope.interface', 'strong', 'same-name')"
                    )
                )
        finally:
            engine.dispose()
        with open_store(url) as store:
            assert engines.current_revision(store.engine) == engines.head_revision()
            with store.engine.connect() as conn:
                names = {i["name"] for table in ("source_record", "purl_cpe") for i in _indexes(conn, table)}
                assert {"ix_source_record_modified", "ix_source_record_source_vuln_id"} <= names
                if engine.dialect.name == "sqlite":
                    plan = conn.execute(
                        text(
                            "EXPLAIN QUERY PLAN SELECT purl_namespace, purl_name, cpe_vendor, cpe_product, rule "
                            "FROM purl_cpe WHERE purl_type = 'pypi' AND strength = 'strong' AND "
                            f"{SQUASHED_NAME} IN ('zopeinterface')"
                        )
                    ).fetchall()
                    assert "ix_purl_cpe_purl_type_squashed_name" in " ".join(str(r[-1]) for r in plan)
                else:
                    assert "ix_purl_cpe_purl_type_squashed_name" in names
            with store.read() as reader:
                found = load_links_of(reader, [link_key("pypi", "", "zope-interface")])
            assert found == {
                link_key("pypi", "", "zope-interface"): [("zope", "zope.interface", "same-name")]
            }

    if backend == "sqlite":
        check(str(tmp_path / "old.db"))
    else:
        assert PG_URL
        with throwaway_postgres(PG_URL) as url:
            check(url)


def _indexes(conn: Any, table: str) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        return list(inspect(conn).get_indexes(table))
