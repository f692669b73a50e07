"""The knowledge base: open (and migrate), write in one transaction, read."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from mamori.errors import InputError, StoreError
from mamori.i18n import _
from mamori.store import engine as engines
from mamori.store import identity, reader
from mamori.store.writer import Writer


class Store:
    """A migrated, ready database. Use :func:`open_store`."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @property
    def display_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """One transaction: everything written inside commits together or not at all."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            yield Writer(conn)

    def lookup(self, identifier: str) -> reader.Lookup | None:
        with self.engine.connect() as conn:
            return reader.lookup(conn, identifier)

    def source_state(self, source: str) -> dict[str, Any] | None:
        """``updated_at``, ``origin`` and ``cursor`` (for incremental sync) of one source."""
        with self.engine.connect() as conn:
            return reader.source_state(conn, source)

    def checkpoint(self, key: str) -> dict[str, Any] | None:
        """Where an interrupted import stopped (what :meth:`Writer.save_checkpoint` kept), or None."""
        with self.engine.connect() as conn:
            return reader.checkpoint(conn, key)

    def coverage(self) -> list[dict[str, Any]]:
        """Per source and scope: complete (when, from where) or partial, and records (see
        :mod:`mamori.vulndb.coverage`)."""
        with self.engine.connect() as conn:
            return reader.coverage(conn)

    def status(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            result = reader.status(conn)
        result["database"] = self.display_url
        return result

    def close(self) -> None:
        self.engine.dispose()

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


def open_store(db: str | os.PathLike[str] | None = None) -> Store:
    """Open the store named by ``--db``, ``MAMORI_DB`` or the default: a new or empty database becomes
    an empty mamori store, an older mamori store is migrated to this mamori's schema, anything else is
    refused before anything is written (:mod:`mamori.store.identity`)."""
    url = engines.resolve_url(db)
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
