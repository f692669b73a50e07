"""The store: open and migrate (SQLite always, PostgreSQL when MAMORI_TEST_PG_URL is set), transactions,
idempotent re-imports, alias resolution, status."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text

from mamori.errors import InputError
from mamori.store import open_store, resolve_url, schema
from mamori.store.engine import head_revision
from mamori.store.registry import all_metadata
from mamori.store.throwaway import reset, throwaway_postgres
from mamori.vulndb import import_path

PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return
    with throwaway_postgres(PG_URL) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "kb.db")
    assert pg_database is not None
    reset(pg_database)
    return pg_database


def _count(url: str, table: type[schema.Base]) -> int:
    engine = create_engine(resolve_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table.__table__)) or 0)
    finally:
        engine.dispose()


# SQLite's expression index (purl_cpe by squashed name) is not reflected: tests/test_store_new_schema.py
# compares its statement
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_open_migrates_to_head_and_schema_matches_models(db_url: str) -> None:
    with open_store(db_url) as store, store.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == head_revision()
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), all_metadata())
        assert diff == []
    with open_store(db_url) as again:  # opening a current store is a no-op
        assert again.status()["vulnerabilities"] == 0


def test_reimport_is_idempotent_and_changes_update(db_url: str, shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "osv" / "pypi" / "pillow"
    with open_store(db_url) as store:
        first = import_path(store, folder)
        n = len(list(folder.glob("*.yaml")))
        assert first.sources["osv"].new == n
        tables = (schema.SourceRecord, schema.Vulnerability, schema.Alias, schema.AffectedPackage)
        before = {t.__tablename__: _count(db_url, t) for t in tables}
        second = import_path(store, folder)
        assert (second.sources["osv"].new, second.sources["osv"].unchanged) == (0, n)
        assert {t.__tablename__: _count(db_url, t) for t in tables} == before
        # a changed advisory is updated in place, not duplicated
        advisory = sorted(folder.glob("*.yaml"))[0]
        changed = tmp_path / advisory.name
        changed.write_bytes(
            advisory.read_bytes().replace(b"\ndetails: ", b"\nsummary: changed upstream\ndetails: ", 1)
        )
        third = import_path(store, changed)
        assert (third.sources["osv"].new, third.sources["osv"].updated) == (0, 1)
        assert {t.__tablename__: _count(db_url, t) for t in tables} == before
        found = store.lookup(advisory.stem)
        assert found is not None and found.vulnerability.titles["en"] == "changed upstream"


def test_a_bad_file_is_reported_and_the_others_imported(
    db_url: str, shared_data: Path, tmp_path: Path
) -> None:
    with open_store(db_url) as store:
        import_path(store, shared_data / "kev")
        mixed = tmp_path / "mixed"
        mixed.mkdir()
        for path in sorted((shared_data / "osv" / "pypi" / "pillow").glob("*.yaml"))[:5]:
            (mixed / path.name).write_bytes(path.read_bytes())
        (mixed / "zz-broken.json").write_bytes(b'{"id": "GHSA-xxxx", "affected": ')
        summary = import_path(store, mixed)
        assert [str(f).split(": ", 1) for f in summary.failed] == [
            [str(mixed / "zz-broken.json"), summary.failed[0].reason]
        ]
        assert "not valid JSON" in summary.failed[0].reason and not summary.complete
        assert summary.files == 6 and summary.sources["osv"].new == 5
        assert store.status()["sources"]["osv"]["records"] == 5
        assert _count(db_url, schema.SourceRecord) == 5
        with pytest.raises(InputError, match=r"zz-broken\.json: not valid JSON"):  # the only input
            import_path(store, mixed / "zz-broken.json")


def test_merge_by_alias_across_sources_and_show_under_every_id(db_url: str, shared_data: Path) -> None:
    salt = shared_data / "osv" / "pypi" / "salt" / "PYSEC-2021-75.yaml"
    cve = shared_data / "cve5" / "2020" / "35xxx" / "CVE-2020-35662.json"
    with open_store(db_url) as store:
        import_path(store, salt)
        only_osv = store.lookup("PYSEC-2021-75")
        assert only_osv is not None and only_osv.vulnerability.id == "CVE-2020-35662"
        import_path(store, cve)
        for identifier in ("CVE-2020-35662", "PYSEC-2021-75", "pysec-2021-75", "cve-2020-35662"):
            found = store.lookup(identifier)
            assert found is not None, identifier
            v = found.vulnerability
            assert v.id == "CVE-2020-35662"
            assert [(s.source, s.id) for s in v.sources] == [
                ("cve5", "CVE-2020-35662"),
                ("osv", "PYSEC-2021-75"),
            ]
            assert {p.name for p in v.affected_packages} == {"salt"}
            assert v.ssvc and v.ssvc[0].provider == "CISA-ADP"
        assert store.status()["vulnerabilities"] == 1
        assert _count(db_url, schema.SourceRecord) == 2


def test_status_counts_sizes_and_kev_only_lookup(db_url: str, shared_data: Path) -> None:
    with open_store(db_url) as store:
        import_path(store, shared_data / "kev" / "known_exploited_vulnerabilities.json")
        import_path(store, shared_data / "jvn")
        status = store.status()
        assert status["sources"]["kev"]["records"] == 1404
        assert status["sources"]["jvn"] == {
            "records": 2,
            "withdrawn": 0,
            "updated_at": status["sources"]["jvn"]["updated_at"],
            "origin": str((shared_data / "jvn").resolve()),
        }
        assert status["size_bytes"] > 0 and status["backend"] in ("sqlite", "postgresql")
        # what a scan reads: the same records and dates per source, no withdrawn counts (not reported)
        scan_status = store.status(strengths=False, totals=False)
        assert scan_status["sources"] == {
            source: {k: v for k, v in entry.items() if k != "withdrawn"}
            for source, entry in status["sources"].items()
        }
        assert "withdrawn" not in scan_status and scan_status["coverage"] == status["coverage"]
        log4shell = store.lookup("CVE-2021-44228")
        assert log4shell is not None
        (entry,) = log4shell.vulnerability.kev
        assert (entry.date_added, entry.known_ransomware_use, entry.source) == ("2021-12-10", "Known", "kev")
        assert store.lookup("CVE-1999-99999999") is None


def test_epss_scores_attach_to_cves_and_sync_state(db_url: str, shared_data: Path, tmp_path: Path) -> None:
    from test_vulndb_parse import EPSS_FORMAT_SAMPLE

    sample = tmp_path / "epss_scores-2025-08-25.csv.gz"
    sample.write_bytes(gzip.compress(EPSS_FORMAT_SAMPLE))
    with open_store(db_url) as store:
        import_path(store, shared_data / "nvd" / "CVE-2017-5638-cvssv3-rating.json")
        summary = import_path(store, sample)
        assert summary.sources["epss"].read == 2
        struts = store.lookup("CVE-2017-5638")
        assert struts is not None and [
            (e.score, e.percentile, e.date) for e in struts.vulnerability.epss
        ] == [(0.94, 0.999, "2025-08-25")]
        git = store.lookup("CVE-2025-48384")  # known to EPSS only
        assert git is not None and [s.source for s in git.vulnerability.sources] == ["epss"]
        assert store.status()["sources"]["epss"]["records"] == 2
        state = store.source_state("epss")
        assert state is not None and state["origin"] == str(sample.resolve()) and state["cursor"] is None
        with store.writer() as writer:
            writer.touch(
                "nvd", "https://services.nvd.nist.gov/rest/json/cves/2.0", cursor="2025-08-25T00:00:00Z"
            )
        assert store.source_state("nvd")["cursor"] == "2025-08-25T00:00:00Z"  # type: ignore[index]
        assert store.source_state("jvn") is None


def test_default_location_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MAMORI_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_url(None) == f"sqlite+pysqlite:///{tmp_path / 'xdg' / 'mamori' / 'mamori.db'}"
    monkeypatch.setenv("MAMORI_DB", str(tmp_path / "env.db"))
    assert resolve_url(None).endswith("env.db")
    assert resolve_url(str(tmp_path / "flag.db")).endswith("flag.db")  # --db wins over the environment
    assert resolve_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(InputError, match="cannot open the database"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_sqlite_is_wal_and_transactions_are_real(tmp_path: Path) -> None:
    with open_store(tmp_path / "w.db") as store, store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
