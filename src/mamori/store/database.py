"""The knowledge base: open (and migrate), write in one transaction, read.

A SQLite store already at this mamori's schema opens without SQLAlchemy: its identity and revision are
read with :mod:`sqlite3` (:mod:`mamori.store.identity`), its reads and an import's writes
(:meth:`Store.writer`) run through :mod:`sqlite3` (:mod:`mamori.store.query`, which says why), and the
engine is made on first use (code that asks for ``store.engine``). A new SQLite file is created the same
way, from the shipped schema (:func:`_create_sqlite`). Every other store is opened, and migrated when
needed, through SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.errors import InputError, StoreError
from mamori.i18n import _
from mamori.store import engine as engines
from mamori.store import identity, query, reader

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from mamori.store.writer import Writer


class Store:
    """A migrated, ready database. Use :func:`open_store`.

    ``engine`` None: a SQLite file at the current schema, read through :mod:`sqlite3` (one connection per
    thread) until something needs the engine, which is then made from ``url``."""

    def __init__(self, engine: Engine | None, url: str) -> None:
        self._engine = engine
        self.url = url
        self._path = engines.sqlite_path(url) if engine is None else None
        if engine is None and self._path is None:
            raise ValueError(f"not a plain SQLite URL: {url}")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # one write transaction at a time on the connection below
        self._write_conn: sqlite3.Connection | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = engines.create(self.url)
        return self._engine

    @property
    def display_url(self) -> str:
        if self._engine is None:
            return self.url  # a plain SQLite URL, shown as SQLAlchemy renders it
        return self._engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def read(self) -> Iterator[query.Reader]:
        """One read transaction on the store (:mod:`mamori.store.query`)."""
        if self._path is not None and self._engine is None:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = query.sqlite_connect(self._path, self.url)
                self._local.conn = conn
                with self._lock:
                    self._connections.append(conn)
            yield from query.sqlite_read(conn, self._path)
            return
        with self.engine.connect() as connection:
            yield query.EngineReader(connection)

    @property
    def writes_from_any_thread(self) -> bool:
        """Whether :meth:`writer` may be used from another thread than the one that opened the store
        (not so for SQLite in memory, whose connection is the thread's own)."""
        if self._engine is None:
            return True
        from sqlalchemy.pool import SingletonThreadPool, StaticPool

        return not isinstance(self._engine.pool, SingletonThreadPool | StaticPool)

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """One transaction: everything written inside commits together or not at all. A SQLite file
        opened without the engine is written through :mod:`sqlite3`, with the engine's pragmas and its
        ``BEGIN IMMEDIATE``, and the same SQL text the engine's SQLite connections run."""
        from mamori.store.writer import Writer

        if self._path is not None and self._engine is None:
            with self._writing:
                if self._write_conn is None:
                    self._write_conn = query.sqlite_connect(self._path, self.url)
                with query.sqlite_write(self._write_conn, self._path) as conn:
                    yield Writer(conn)
            return
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            yield Writer(conn)

    def lookup(self, identifier: str) -> reader.Lookup | None:
        with self.read() as conn:
            return reader.lookup(conn, identifier)

    def source_state(self, source: str) -> dict[str, Any] | None:
        """``updated_at``, ``origin`` and ``cursor`` (for incremental sync) of one source."""
        with self.read() as conn:
            return reader.source_state(conn, source)

    def checkpoint(self, key: str) -> dict[str, Any] | None:
        """Where an interrupted import stopped (what :meth:`Writer.save_checkpoint` kept), or None."""
        with self.read() as conn:
            return reader.checkpoint(conn, key)

    def coverage(self, records: bool = True) -> list[dict[str, Any]]:
        """Per source and scope: complete (when, from where) or partial, and records (see
        :mod:`mamori.vulndb.coverage`; ``records=False``: without them, counted over the whole store)."""
        with self.read() as conn:
            return reader.coverage(conn, records)

    def status(self, strengths: bool = True, totals: bool = True) -> dict[str, Any]:
        """What the store holds (:func:`mamori.store.reader.status`), and ``database``: where it is."""
        with self.read() as conn:
            result = reader.status(conn, strengths, totals)
        result["database"] = self.display_url
        return result

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        with self._writing:
            if self._write_conn is not None:
                connections.append(self._write_conn)
                self._write_conn = None
        for conn in connections:
            query.sqlite_close(conn)
        self._local = threading.local()
        if self._engine is not None:
            self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_identity(engine: Engine) -> None:
    """Refuse (a :class:`StoreError`, nothing written) a database that is neither new, empty nor a mamori
    store this mamori knows (see :mod:`mamori.store.identity`)."""
    from mamori import __version__

    where = engines.where(engine)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return
        found = identity.sqlite_found(Path(database), where)
    else:
        with engine.connect() as conn:
            found = identity.connection_found(conn)
    identity.judge(found, where, engines.known_revisions(), engines.head_revision(), __version__)


def _current_sqlite(url: str) -> bool:
    """True when ``url`` is a plain SQLite file holding a mamori store at this mamori's newest revision
    (read with :mod:`sqlite3`, nothing written): it needs no migration, nor SQLAlchemy to read it. A
    file that is not a mamori store this mamori knows is refused here as by :func:`_check_identity`."""
    from mamori import __version__

    path = engines.sqlite_path(url)
    if path is None:
        return False
    found = identity.sqlite_found(Path(path), path)
    head = engines.head_revision()
    identity.judge(found, path, engines.known_revisions(), head, __version__)
    return (
        found is not None
        and found.tables >= identity.CORE_TABLES
        and head is not None
        and found.revisions == (head,)
    )


def _create_sqlite(url: str) -> bool:
    """Make a new SQLite store without SQLAlchemy when ``url`` is a plain SQLite file that is absent or
    empty (0 bytes, or no tables; :func:`_current_sqlite` refused any other that is not a current store)
    and the shipped schema stands for this mamori's newest revision: the very statements
    :func:`mamori.store.engine.create_new` runs, in one transaction, stamped with the revision. False,
    nothing done, otherwise (the engine then creates or migrates it as before), and when the file got
    tables meanwhile (another process set it up: the write transaction waited for it)."""
    from mamori.store import newschema

    path = engines.sqlite_path(url)
    head = engines.head_revision()
    if path is None or head is None:
        return False
    found = identity.sqlite_found(Path(path), path)
    if found is not None and found.tables:
        return False
    statements = newschema.shipped("sqlite", head)
    if statements is None:
        return False
    conn = query.sqlite_connect(path, url)
    try:
        with query.sqlite_write(conn, path) as writing:
            if writing.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchall():
                return False
            for statement in statements:
                writing.execute(statement)
            writing.execute(f"INSERT INTO {newschema.VERSION_TABLE} (version_num) VALUES (?)", (head,))
    finally:
        query.sqlite_close(conn)
    return True


def open_store(db: str | os.PathLike[str] | None = None) -> Store:
    """Open the store named by ``--db``, ``MAMORI_DB`` or the default: a new or empty database becomes
    an empty mamori store, an older mamori store is migrated to this mamori's schema, anything else is
    refused before anything is written (:mod:`mamori.store.identity`)."""
    url = engines.resolve_url(db)
    if _current_sqlite(url) or _create_sqlite(url):
        return Store(None, url)
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    engine = engines.create(url)
    try:
        _check_identity(engine)
        engines.migrate(engine)
    except StoreError:
        engine.dispose()
        raise
    except OperationalError as exc:
        engine.dispose()
        raise InputError(
            engine.url.render_as_string(hide_password=True),
            _("cannot open the database: {orig}").format(orig=exc.orig),
        ) from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise InputError(
            engine.url.render_as_string(hide_password=True),
            _("cannot migrate the database: {exc}").format(exc=exc),
        ) from None
    return Store(engine, url)
