"""The knowledge base: open (and migrate), write in one transaction, read."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from mamori.errors import InputError
from mamori.store import engine as engines
from mamori.store import reader
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


def open_store(db: str | os.PathLike[str] | None = None) -> Store:
    """Open (creating and migrating when needed) the store named by ``--db``, ``MAMORI_DB`` or the default."""
    url = engines.resolve_url(db)
    engine = engines.create(url)
    try:
        engines.migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        raise InputError(
            engine.url.render_as_string(hide_password=True), f"cannot open the database: {exc.orig}"
        ) from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise InputError(
            engine.url.render_as_string(hide_password=True), f"cannot migrate the database: {exc}"
        ) from None
    return Store(engine, url)
