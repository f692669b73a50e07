"""Where the store lives and how it is opened: SQLite file by default, PostgreSQL by URL.

``--db`` (a path or a URL), else ``MAMORI_DB``, else ``<user data dir>/mamori/mamori.db``.
Opening migrates the schema to the newest Alembic revision shipped in :mod:`mamori.store.migrations`.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import SQLAlchemyError

from mamori.errors import InputError, StoreError
from mamori.i18n import _
from mamori.store.identity import DAMAGE_CODES, SQLITE_FULL, damaged
from mamori.store.messages import texts

MIGRATIONS = Path(__file__).with_name("migrations")


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


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below makes transactions real
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "temp_store=MEMORY",
            "cache_size=-65536",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


#: exit code when the database goes away mid-way: the input was fine, the command could not finish
EXIT_UNAVAILABLE = 3
EXIT_FULL = 2  # as an output on a full disk
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
    name = where(engine)

    @event.listens_for(engine, "handle_error")
    def _handle(context: ExceptionContext) -> None:
        if context.is_pre_ping:  # a pooled connection found dead before use: the pool opens a new one
            return
        original = context.original_exception
        if context.is_disconnect:
            detail = " ".join(str(original).split())[:200]
            raise StoreError(name, texts("lost", detail=detail), exit_code=EXIT_UNAVAILABLE) from None
        code = getattr(original, "sqlite_errorcode", None)
        if (code is not None and code & 0xFF == SQLITE_FULL) or getattr(
            original, "sqlstate", None
        ) == PG_DISK_FULL:
            detail = " ".join(str(original).split())[:200]
            raise StoreError(name, texts("full", detail=detail), exit_code=EXIT_FULL) from None
        if code is not None and code & 0xFF in DAMAGE_CODES:
            raise damaged(name, "malformed", detail=" ".join(str(original).split())) from None


def create(url: str) -> Engine:
    try:
        engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise InputError(url, _("cannot open the database: {exc}").format(exc=exc)) from None
    if engine.dialect.name == "sqlite":
        _sqlite_events(engine)
    _error_events(engine)
    return engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> frozenset[str]:
    """Every revision this mamori ships."""
    return frozenset(r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when it is current)."""
    head = head_revision()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
