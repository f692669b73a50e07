"""Whose database ``--db`` names, decided before mamori writes anything to it.

mamori opens (and migrates) only a database that is

* new or empty: no file, a file of 0 bytes, or a database without tables (PostgreSQL: none in the
  connection's default schema). Every command, the read-only ones included, makes it an empty mamori
  store — there is nothing of anyone's to damage;
* mamori's: ``alembic_version`` holds a revision this mamori ships and mamori's knowledge-base tables
  (those of the first revision) are there. An older revision is upgraded, as it always was.

Anything else is refused with one line and nothing written: tables of another program (another Alembic
application too: its revision ids are unknown, its tables are not mamori's), a SQLite file of another
program (``PRAGMA application_id`` set), a file that is not a SQLite database or is damaged, and a store
whose revision this mamori does not know while mamori's tables are there (written by a newer mamori).

A SQLite file is read here with the standard library, read-only (``mode=ro``), before the engine's
connection settings (WAL mode and others, which change the file) ever touch it.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mamori.errors import StoreError
from mamori.store.messages import MESSAGES, texts

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: the tables of the first revision (0001): every mamori store since has them
CORE_TABLES = frozenset(
    {
        "source_record",
        "vulnerability",
        "alias",
        "affected_package",
        "affected_cpe",
        "kev",
        "epss",
        "purl_cpe",
        "source_state",
    }
)
VERSION_TABLE = "alembic_version"
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER = 100
# SQLite result codes (the low byte of an extended code) that mean the file itself is not sound
SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26
SQLITE_FULL = 13  # the disk (or the file system's quota) holding the store is full
DAMAGE_CODES = frozenset({SQLITE_CORRUPT, SQLITE_NOTADB})
SHOWN_TABLES = 5


@dataclass(frozen=True)
class Found:
    """What a database holds: its tables and the revisions in ``alembic_version``."""

    tables: frozenset[str]
    revisions: tuple[str, ...] = ()


def damaged(where: str, *reason: str, **values: object) -> StoreError:
    """'not a readable mamori store (<reason>)' in both languages."""
    return StoreError(
        where,
        {
            lang: MESSAGES.text(lang, "damaged", reason=MESSAGES.text(lang, *reason, **values))
            for lang in ("ja", "en")
        },
    )


# The SQLite files this process has a connection open on, by (device, inode), with how many. A POSIX
# lock belongs to the process and the file, not to the descriptor: closing ANY descriptor of the file
# drops every lock this process holds on it, SQLite's included (SQLite itself defers its own closes for
# this reason). The header read below opens and closes a plain descriptor, so it is skipped for a file
# this process already has open through SQLite: otherwise a long-running server that opens its store a
# second time would lose its locks, and another process (a command adding an API key, say) could take
# the file as unused, checkpoint it and delete its WAL from under the server's connections.
_open_here: Counter[tuple[int, int]] = Counter()
_open_lock = threading.Lock()


def opened_here(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """Count a SQLite connection this process has just opened on the file at ``path``; the key to give
    :func:`closed_here` when it is closed (None when the file cannot be looked at)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    key = (info.st_dev, info.st_ino)
    with _open_lock:
        _open_here[key] += 1
    return key


def closed_here(key: tuple[int, int] | None) -> None:
    """One connection counted by :func:`opened_here` is closed."""
    if key is None:
        return
    with _open_lock:
        _open_here[key] -= 1
        if _open_here[key] <= 0:
            del _open_here[key]


def _open_in_this_process(info: os.stat_result) -> bool:
    with _open_lock:
        return _open_here[(info.st_dev, info.st_ino)] > 0


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _check_header(path: Path, info: os.stat_result, where: str) -> None:
    """The file's first 100 bytes: SQLite's, not cut short, not another application's."""
    try:
        with path.open("rb") as handle:
            header = handle.read(HEADER)
    except OSError as exc:
        raise StoreError(where, texts("cannot_open", detail=_one_line(exc.strerror or exc))) from None
    if not header.startswith(SQLITE_MAGIC):
        raise damaged(where, "not_sqlite")
    if len(header) < HEADER:
        raise damaged(where, "cut_short", size=info.st_size, expected=HEADER)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # the size in the header counts only when the change counter and "version valid for" agree
    if pages and header[24:28] == header[92:96] and info.st_size < pages * page_size:
        raise damaged(where, "cut_short", size=info.st_size, expected=pages * page_size)
    application = int.from_bytes(header[68:72], "big")
    if application:
        raise StoreError(where, texts("foreign_application", application=application))


def sqlite_found(path: Path, where: str) -> Found | None:
    """The tables of the SQLite file at ``path`` read without changing it; None when there is no file
    or it is empty (0 bytes). A file that is not a readable SQLite database raises a :class:`StoreError`."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(where, texts("cannot_open", detail=_one_line(exc.strerror or exc))) from None
    if not stat.S_ISREG(info.st_mode):
        raise damaged(where, "not_regular")
    if info.st_size == 0:
        return None
    if not _open_in_this_process(info):
        _check_header(path, info, where)
    # Read-only. With no -wal or -shm file beside it no process has it open in WAL mode: read it as
    # immutable, which creates neither (a read-only connection could not remove them afterwards).
    side = any(path.with_name(path.name + suffix).exists() for suffix in ("-wal", "-shm", "-journal"))
    mode = "mode=ro" if side else "immutable=1"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise StoreError(where, texts("cannot_open", detail=_one_line(exc))) from None
    try:
        tables = frozenset(
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            )
        )
        revisions: tuple[str, ...] = ()
        if VERSION_TABLE in tables:
            revisions = tuple(str(row[0]) for row in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}"))
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF in DAMAGE_CODES or not isinstance(
            exc, sqlite3.OperationalError
        ):
            raise damaged(where, "malformed", detail=_one_line(exc)) from None
        raise StoreError(where, texts("cannot_open", detail=_one_line(exc))) from None
    finally:
        conn.close()
    return Found(tables, revisions)


def connection_found(conn: Connection) -> Found:
    """The tables of the connection's default schema and the revisions in ``alembic_version``."""
    from sqlalchemy import inspect, text

    tables = frozenset(inspect(conn).get_table_names())
    revisions: tuple[str, ...] = ()
    if VERSION_TABLE in tables:
        revisions = tuple(
            str(r) for r in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        )
    return Found(tables, revisions)


def _names(tables: Iterable[str]) -> str:
    names = sorted(tables)
    shown = ", ".join(_one_line(n)[:60] for n in names[:SHOWN_TABLES])
    return shown + (f", … (+{len(names) - SHOWN_TABLES})" if len(names) > SHOWN_TABLES else "")


def judge(found: Found | None, where: str, known: Iterable[str], head: str | None, version: str) -> None:
    """Raise a :class:`StoreError` unless ``found`` is new, empty or a mamori store this mamori knows."""
    if found is None:
        return
    others = found.tables - {VERSION_TABLE}
    if not others and not found.revisions:
        return  # empty
    mamori_tables = found.tables >= CORE_TABLES
    if found.revisions and mamori_tables:
        unknown = [r for r in found.revisions if r not in set(known)]
        if not unknown:
            return
        raise StoreError(where, texts("newer", revision=", ".join(unknown), head=head, version=version))
    raise StoreError(where, texts("foreign", tables=_names(others or found.tables)))
