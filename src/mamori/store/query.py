"""Reads of the store as SQL text with named parameters, one set of queries run by two executors.

A scan of a few components is mostly start-up: importing SQLAlchemy costs about 0.17 s (0.22 s with
its ORM), more than ``mamori --version`` takes whole, against a budget of 2.5 times that for a
3-component scan. So the reads a scan makes (the knowledge base's index rows, documents, purl2cpe
links, KEV, EPSS, status and coverage, a product's stored triage records and context) are SQL text here:

- a SQLite store that is already at this mamori's schema is read through the standard library's
  :mod:`sqlite3` (:class:`SqliteReader`), with the same pragmas as the engine's connections and each
  read in one transaction, and SQLAlchemy is never imported;
- every other store (PostgreSQL, a URL with options, a store that was just created or migrated) runs
  the very same text through SQLAlchemy's ``text()`` on a connection of its engine (:class:`EngineReader`).

The same goes for an import's writes to such a store, and for creating a new SQLite store from the
shipped schema (:func:`sqlite_write`, :mod:`mamori.store.database`): importing SQLAlchemy and the
store's table classes was most of the main process's own time in an import of a few thousand records.
Other writes and migrations stay on SQLAlchemy and Alembic. Lists go in as one named
parameter each (``:name_0, :name_1 …``, :func:`in_list`), rows come back as plain tuples.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from mamori.errors import InputError, StoreError
from mamori.i18n import _
from mamori.store import identity
from mamori.store.identity import DAMAGE_CODES, SQLITE_FULL, damaged
from mamori.store.messages import texts

if TYPE_CHECKING:
    from sqlalchemy import Connection

Params = dict[str, Any]

# what every connection of the engine sets (mamori.store.engine), the same for the reads here
PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
    "temp_store=MEMORY",
    "cache_size=-65536",
    "busy_timeout=30000",
)
EXIT_FULL = 2  # as mamori.store.engine: the disk under the store is full

# a purl2cpe link's name with case and the separators -_. left out: the name look-up of a scan
# (mamori.match.purl2cpe.load_links_of) compares it, and the index ix_purl_cpe_purl_type_squashed_name
# (mamori.store.schema) is built on the very same expression, so SQLite and PostgreSQL search the index
# instead of reading every link of the purl type
SQUASHED_NAME = "replace(replace(replace(lower(purl_name), '-', ''), '_', ''), '.', '')"


def sqlite_failure(where: str, exc: BaseException) -> StoreError | None:
    """The :class:`~mamori.errors.StoreError` a SQLite error stands for when it says the disk under the
    store is full (exit 2) or the file damaged, else None (the engine's connections and
    :class:`SqliteReader` both ask here)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    if code & 0xFF == SQLITE_FULL:
        detail = " ".join(str(exc).split())[:200]
        return StoreError(where, texts("full", detail=detail), exit_code=EXIT_FULL)
    if code & 0xFF in DAMAGE_CODES:
        return damaged(where, "malformed", detail=" ".join(str(exc).split()))
    return None


def in_list(name: str, values: Iterable[Any], params: Params) -> str:
    """``(:name_0, :name_1, …)`` for ``IN``, the values added to ``params``."""
    names = []
    for index, value in enumerate(values):
        key = f"{name}_{index}"
        params[key] = value
        names.append(f":{key}")
    return "(" + ", ".join(names) + ")"


def in_rows(name: str, rows: Iterable[Sequence[Any]], params: Params) -> str:
    """``(SELECT column1, column2 FROM (VALUES (:name_0_0, :name_0_1), …) AS name_rows)`` for a row-value
    ``IN`` (SQLite and PostgreSQL alike; both name the columns of ``VALUES`` column1, column2 …).

    The ``SELECT`` around ``VALUES`` matters to SQLite: against a bare ``VALUES`` list it reads the whole
    table and tests every row, against the sub-query it searches the index on the columns once per key
    (a scan's CPE look-up of a few products: 0.01 ms instead of 3 ms over the shared data)."""
    out = []
    width = 0
    for index, row in enumerate(rows):
        keys = []
        for column, value in enumerate(row):
            key = f"{name}_{index}_{column}"
            params[key] = value
            keys.append(f":{key}")
        width = len(keys)
        out.append("(" + ", ".join(keys) + ")")
    columns = ", ".join(f"column{n}" for n in range(1, width + 1))
    return f"(SELECT {columns} FROM (VALUES " + ", ".join(out) + f") AS {name}_rows)"


class SqliteReader:
    """Reads through :mod:`sqlite3`; errors that say the file is damaged or the disk full become the
    :class:`~mamori.errors.StoreError` the engine's connections raise for them."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, where: str) -> None:
        self.conn = conn
        self.where = where

    def _failed(self, exc: sqlite3.Error) -> Exception:
        return sqlite_failure(self.where, exc) or exc

    def execute(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, params or {}).fetchall()
        except sqlite3.Error as exc:
            failed = self._failed(exc)
            if failed is exc:
                raise
            raise failed from None

    def scalar(self, sql: str, params: Params | None = None) -> Any:
        rows = self.execute(sql, params)
        return rows[0][0] if rows else None


class EngineReader:
    """The same reads on a connection of a SQLAlchemy engine (PostgreSQL, or any store opened by it)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    def execute(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        return [tuple(row) for row in self.conn.execute(text(sql), params or {})]

    def scalar(self, sql: str, params: Params | None = None) -> Any:
        rows = self.execute(sql, params)
        return rows[0][0] if rows else None


Reader = SqliteReader | EngineReader


def sqlite_connect(path: str, url: str) -> sqlite3.Connection:
    """A connection to the SQLite store at ``path`` set up as the engine sets up its own; one that cannot
    be opened is the error opening the store through the engine gives (``url`` names it)."""
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            for pragma in PRAGMAS:
                conn.execute(f"PRAGMA {pragma}")
        except sqlite3.Error:
            conn.close()
            raise
    except sqlite3.Error as exc:
        failed = sqlite_failure(path, exc)
        if failed is not None:
            raise failed from None
        raise InputError(url, _("cannot open the database: {orig}").format(orig=exc)) from None
    _held[id(conn)] = identity.opened_here(path)
    return conn


_held: dict[int, tuple[int, int] | None] = {}  # connection → the file it holds (identity.opened_here)


def sqlite_close(conn: sqlite3.Connection) -> None:
    """Close a connection of :func:`sqlite_connect` (and stop counting it as holding its file)."""
    conn.close()
    identity.closed_here(_held.pop(id(conn), None))


@contextmanager
def sqlite_write(conn: sqlite3.Connection, where: str) -> Iterator[sqlite3.Connection]:
    """One write transaction, as the engine's write connections run it (``BEGIN IMMEDIATE``, committed
    when the block ends, rolled back whole on any error or interruption); errors that say the disk is
    full or the file damaged become the :class:`~mamori.errors.StoreError` the engine raises for them."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                with suppress(sqlite3.Error):  # the error that stopped the block is the one to report
                    conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        failed = sqlite_failure(where, exc)
        if failed is None:
            raise
        raise failed from None


def sqlite_read(conn: sqlite3.Connection, where: str) -> Iterator[SqliteReader]:
    """One read transaction (as the engine's ``BEGIN``): every query in it sees the same store."""
    reader = SqliteReader(conn, where)
    try:
        conn.execute("BEGIN")
    except sqlite3.Error as exc:
        failed = reader._failed(exc)
        if failed is exc:
            raise
        raise failed from None
    try:
        yield reader
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
