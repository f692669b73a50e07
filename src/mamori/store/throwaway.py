"""Throw-away PostgreSQL databases for tests and benchmarks (``mamori_test_<random>``, dropped after use)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

from sqlalchemy import MetaData, create_engine, make_url


@contextlib.contextmanager
def throwaway_postgres(
    server_url: str, prefix: str = "mamori_test", template: str | None = None
) -> Iterator[str]:
    """Create a fresh database on the server, yield its URL, drop it afterwards.

    ``template``: the name of a database on the same server to copy (``CREATE DATABASE ... TEMPLATE``, a file
    copy on the server, much cheaper than migrating and importing again); nobody may be connected to it."""
    if template is not None and not template.replace("_", "").isalnum():
        raise ValueError(f"not a database name of ours: {template!r}")
    url = make_url(server_url)
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy = f' TEMPLATE "{template}"' if template else ""
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def reset(url: str) -> None:
    """Drop every table of the store and Alembic's version table, so the next open starts afresh."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            existing = MetaData()
            existing.reflect(conn)  # every table present, whichever feature's module defined it
            existing.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    finally:
        engine.dispose()
