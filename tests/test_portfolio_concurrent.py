"""Two workers storing SBOMs at once on PostgreSQL: both may find the same component identity new. The
second insert waits for the first transaction and reuses its row instead of failing on the unique key
(an upload on a second worker process failed so). Skipped without MAMORI_TEST_PG_URL."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mamori.portfolio import tables as t
from mamori.portfolio.archive import component_ids, parse_sbom, unique_identities
from mamori.store import open_store
from mamori.store.throwaway import throwaway_postgres
from portfolio_support import PG_URL, sbom_file

PURLS = ["pkg:pypi/django@1.11.20", "pkg:pypi/requests@2.19.0", "pkg:maven/org.example/lib@1.0"]


@pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")
def test_two_transactions_add_the_same_new_identities(tmp_path: Path) -> None:
    assert PG_URL is not None
    path = sbom_file(tmp_path / "shop.cdx.json", PURLS, "shop")
    _fmt, doc = parse_sbom(path.read_bytes(), path)
    identities = unique_identities(doc)
    with throwaway_postgres(PG_URL, prefix="mamori_concurrent") as url, open_store(url) as store:
        first = store.engine.connect()
        first.begin()
        mine = component_ids(first, identities)  # inserted, not committed yet
        other: dict[str, Any] = {}

        def second() -> None:
            try:
                with store.engine.connect() as conn, conn.begin():
                    other["ids"] = component_ids(conn, identities)
            except Exception as exc:  # the failure the test is about
                other["error"] = exc

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)  # it finds the keys missing and waits on the first transaction's rows
        first.commit()
        first.close()
        thread.join(60)
        assert "error" not in other and other["ids"] == mine
        c, cc = t.ComponentRow.__table__, t.ComponentCpeRow.__table__
        with store.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(c)) == len(identities) == len(PURLS)
            cpe = conn.execute(select(cc.c.component_id, cc.c.vendor, cc.c.product)).all()
        assert len(cpe) == len(set(cpe))  # no CPE key twice


class _UniqueViolation(Exception):
    """What the driver raises for a unique key lost in a COPY (not wrapped by SQLAlchemy)."""

    sqlstate = "23505"


@pytest.mark.parametrize("raised", ["sqlalchemy", "driver"])
def test_an_upload_matched_while_another_worker_wrote_the_same_rows_matches_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raised: str
) -> None:
    import importlib

    from sqlalchemy.exc import IntegrityError

    from mamori.demo import DEMO_SBOM, demo_data, load_demo_vulnerabilities
    from mamori.portfolio import uploads

    rematch = importlib.import_module("mamori.portfolio.rematch")  # the module, not its function
    db = str(tmp_path / "kb.db")
    load_demo_vulnerabilities(db)
    real = rematch.match_release
    calls: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # what losing the unique key to another worker raises
            if raised == "driver":
                raise _UniqueViolation("duplicate key value violates unique constraint")
            raise IntegrityError("INSERT INTO portfolio_match", {}, Exception("duplicate key"))
        return real(*args, **kwargs)

    monkeypatch.setattr(rematch, "match_release", racing)
    with open_store(db) as store:
        data = (demo_data() / DEMO_SBOM).read_bytes()
        token = uploads.submit_upload(store, data, "shop.cdx.json", "shop", "2.1.0", True, "tester")
        status = uploads.process_upload(store, token)
        assert status is not None and status.state == uploads.DONE and status.open_findings
        assert len(calls) == 2
