"""Helpers shared by the full-sync and snapshot tests: a store on SQLite (always) or PostgreSQL (when
MAMORI_TEST_PG_URL is set), the loopback services' URLs as environment variables, and the knowledge
base's tables as comparable rows."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from mamori.store import resolve_url
from mamori.store.snapshot import TABLES
from mamori.store.throwaway import reset, throwaway_postgres
from mamori.store.writer import CHECKPOINT_PREFIX
from vulndb_server import Server

PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]
URL_VARIABLES = {
    "MAMORI_NVD_API_URL": "/nvd",
    "MAMORI_MYJVN_URL": "/myjvn",
    "MAMORI_KEV_URL": "/kev.json",
    "MAMORI_EPSS_URL": "/epss_scores-current.csv.gz",
    "MAMORI_OSV_URL": "/osv",
    "MAMORI_OSV_API_URL": "/osv-api",
    "MAMORI_PURL2CPE_URL": "/purl2cpe.zip",
}


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str | None]:
    """One throw-away PostgreSQL database for the module (None without MAMORI_TEST_PG_URL)."""
    if not PG_URL:
        yield None
        return
    with throwaway_postgres(PG_URL) as url:
        yield url


def throwaway_databases(stack: ExitStack, backend: str, prefix: str, count: int = 1) -> list[str | None]:
    """``count`` stores for a test run per backend: None each on "sqlite" (the test's own SQLite files);
    on "postgresql" new databases on the MAMORI_TEST_PG_URL server, dropped when ``stack`` closes (the
    test is skipped without that server)."""
    if backend != "postgresql":
        return [None] * count
    if not PG_URL:
        pytest.skip("MAMORI_TEST_PG_URL not set")
    return [stack.enter_context(throwaway_postgres(PG_URL, prefix=prefix)) for _ in range(count)]


def fresh_store_url(kind: str, tmp_path: Path, pg: str | None, name: str = "kb") -> str:
    """A SQLite file, or the PostgreSQL test database emptied of every table."""
    if kind == "sqlite":
        return str(tmp_path / f"{name}.db")
    assert pg is not None
    reset(pg)
    return pg


def service_env(server: Server) -> dict[str, str]:
    return {name: server.url(path) for name, path in URL_VARIABLES.items()}


# the knowledge base: every table but the user's own (assessments, triage records, the portfolio)
KB_TABLES = TABLES
SURROGATE = {"affected_package", "affected_cpe", "purl_cpe"}  # tables whose "id" the store gives

# what a sync or an import sets to the time it ran: equal data, different moments
MOMENTS = {
    "source_state": {"updated_at", "cursor"},
    "coverage": {"complete_at", "partial_at"},
}
_DOCUMENTS = {"doc"}


def kb_rows(url: str, *, moments: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every knowledge-base table's rows (without surrogate ids, import checkpoints and, unless
    ``moments``, the times a sync ran), sorted; stored documents decompressed."""
    engine = create_engine(resolve_url(url))
    out: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with engine.connect() as conn:
            for model in KB_TABLES:
                table = model.__table__
                names = [
                    c.name
                    for c in table.columns
                    if not (table.name in SURROGATE and c.name == "id")
                    and (moments or c.name not in MOMENTS.get(table.name, set()))
                ]
                stmt = select(*(table.c[n] for n in names))
                if table.name == "source_state":
                    stmt = stmt.where(~table.c.source.startswith(CHECKPOINT_PREFIX))
                rows = []
                for row in conn.execute(stmt):
                    rows.append(
                        tuple(
                            zlib.decompress(v) if n in _DOCUMENTS and v is not None else v
                            for n, v in zip(names, row, strict=True)
                        )
                    )
                out[table.name] = sorted(rows, key=repr)
    finally:
        engine.dispose()
    return out
