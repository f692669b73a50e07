"""Where the store lives and how it is opened: SQLite file by default, PostgreSQL by URL.

``--db`` (a path or a URL), else ``MAMORI_DB``, else ``<user data dir>/mamori/mamori.db``.
Opening migrates the schema to the newest Alembic revision shipped in :mod:`mamori.store.migrations`;
a new, empty database is created at that revision directly (:func:`create_new`).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from mamori.errors import InputError, StoreError
from mamori.i18n import _
from mamori.store import identity
from mamori.store.messages import texts
from mamori.store.query import EXIT_FULL, PRAGMAS, sqlite_failure

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine
    from sqlalchemy.engine import ExceptionContext

MIGRATIONS = Path(__file__).with_name("migrations")
# Alembic (a third of the time it takes to open the store) is imported only to migrate: the revisions are
# read from the migration files' own ``revision = "..."`` / ``down_revision = ...`` lines
# (tests/test_compliance_start.py proves them equal to Alembic's reading).
_REVISION = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=\n]+)?\s*=\s*(?:None|[\"']([^\"']+)[\"'])", re.MULTILINE)


def default_path() -> Path:
    return Path(platformdirs.user_data_dir("mamori", appauthor=False)) / "mamori.db"


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """A SQLAlchemy URL from ``--db``, ``MAMORI_DB`` or the default SQLite file."""
    value = str(db) if db else os.environ.get("MAMORI_DB") or ""
    if "://" in value:
        return value
    path = Path(value).expanduser() if value else default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+pysqlite:///{path}"


def sqlite_path(url: str) -> str | None:
    """The file of a plain SQLite URL (``sqlite:///PATH``, as :func:`resolve_url` makes from a path), read
    without SQLAlchemy; None for any other URL (a server, a URL with options or escapes, memory)."""
    for prefix in ("sqlite+pysqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :]
            if not path or path == ":memory:" or path.startswith("file:") or any(c in path for c in "%?#"):
                return None
            return path
    return None


def _sqlite_events(engine: Engine) -> None:
    from sqlalchemy import event

    database = engine.url.database
    counted = bool(database) and database != ":memory:" and not database.startswith("file:")
    held: dict[int, tuple[int, int] | None] = {}  # connection → the file it holds (identity.opened_here)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below makes transactions real
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        if counted:
            held[id(dbapi_connection)] = identity.opened_here(database)

    @event.listens_for(engine, "close")
    def _close(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        identity.closed_here(held.pop(id(dbapi_connection), None))

    @event.listens_for(engine, "close_detached")
    def _close_detached(dbapi_connection) -> None:  # type: ignore[no-untyped-def]
        identity.closed_here(held.pop(id(dbapi_connection), None))

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


#: exit code when the database goes away mid-way: the input was fine, the command could not finish
EXIT_UNAVAILABLE = 3
PG_DISK_FULL = "53100"  # PostgreSQL's disk_full


def where(engine: Engine) -> str:
    """How errors name the store: the SQLite file's path, else the URL without its password."""
    if engine.dialect.name == "sqlite" and engine.url.database:
        return engine.url.database
    return engine.url.render_as_string(hide_password=True)


def _error_events(engine: Engine) -> None:
    """Errors that say the store itself cannot be used become one :class:`StoreError`, whatever was running:
    a SQLite file found damaged while reading it (exit 2), a connection to the server lost (exit 3; the
    transaction it carried is rolled back by the server, so nothing of it was written), the disk under the
    store full (exit 2; the transaction is rolled back)."""
    from sqlalchemy import event

    name = where(engine)

    @event.listens_for(engine, "handle_error")
    def _handle(context: ExceptionContext) -> None:
        if context.is_pre_ping:  # a pooled connection found dead before use: the pool opens a new one
            return
        original = context.original_exception
        if context.is_disconnect:
            detail = " ".join(str(original).split())[:200]
            raise StoreError(name, texts("lost", detail=detail), exit_code=EXIT_UNAVAILABLE) from None
        failure = sqlite_failure(name, original)
        if failure is None and getattr(original, "sqlstate", None) == PG_DISK_FULL:
            detail = " ".join(str(original).split())[:200]
            failure = StoreError(name, texts("full", detail=detail), exit_code=EXIT_FULL)
        if failure is not None:
            raise failure from None


def create(url: str) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise InputError(url, _("cannot open the database: {exc}").format(exc=exc)) from None
    if engine.dialect.name == "sqlite":
        _sqlite_events(engine)
    else:
        _quiet_driver_log()
    _error_events(engine)
    return engine


def _quiet_driver_log() -> None:
    """psycopg logs a warning ("error ignored terminating <psycopg.Pipeline [BAD]>") when a connection is
    lost inside a pipeline, besides raising the error that becomes mamori's one line. With no logging set
    up, Python would print that warning on stderr as a second line; a handler that drops it stops that,
    while handlers a server or worker sets up still receive it (the record still propagates)."""
    import logging

    driver = logging.getLogger("psycopg")
    if not any(isinstance(h, logging.NullHandler) for h in driver.handlers):
        driver.addHandler(logging.NullHandler())


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def revisions() -> dict[str, str | None]:
    """Every revision this mamori ships → the revision it follows (None for the first)."""
    out: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        found, down = _REVISION.search(source), _DOWN.search(source)
        if found is None or down is None:
            continue
        out[found.group(1)] = down.group(1)
    return out


def head_revision() -> str | None:
    shipped = revisions()
    heads = set(shipped) - {down for down in shipped.values() if down}
    if len(heads) != 1:  # branches or an unreadable file: Alembic decides (and names the problem)
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(alembic_config()).get_current_head()
    return heads.pop()


def known_revisions() -> frozenset[str]:
    """Every revision this mamori ships."""
    return frozenset(revisions())


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).fetchall()
    if len(rows) > 1:  # several heads: Alembic's business
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    return str(rows[0][0]) if rows else None


def create_new(engine: Engine, head: str) -> bool:
    """A brand-new, empty database gets the newest schema in one transaction, stamped with the head
    revision (Alembic's recipe for new databases: replaying every migration took most of the time of
    opening a new store): the shipped DDL that the tables' metadata emits for this revision
    (:mod:`mamori.store.newschema`), else the metadata itself. False, nothing done, when the database
    is not empty (another process may have set it up meanwhile: the write transaction waits for it).
    tests/test_store_new_schema.py proves the schema identical to the migrated one, table by table,
    column by column, index by index, on SQLite and PostgreSQL."""
    from sqlalchemy import inspect

    from mamori.store import newschema

    statements = newschema.shipped(engine.dialect.name, head)
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        if inspect(conn).get_table_names():
            return False
        if statements is not None:
            for statement in statements:
                conn.exec_driver_sql(statement)
        else:
            from mamori.store.registry import all_metadata

            all_metadata().create_all(conn, checkfirst=False)
            newschema.version_table().create(conn, checkfirst=False)
        conn.execute(newschema.version_table().insert().values(version_num=head))
    return True


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when it is current); a new, empty database is
    created at the newest revision directly (:func:`create_new`)."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None and head is not None and create_new(engine, head):
        return
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
