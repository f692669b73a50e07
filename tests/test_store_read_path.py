"""The read path of the store (mamori.store.query): a SQLite store at the current schema is read through
sqlite3 without importing SQLAlchemy, and reads the same as through a SQLAlchemy engine; ``mamori scan``
builds only its own command. Records, links and the SBOM come from ../shared/data."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from mamori.cli.main import SUBCOMMANDS
from mamori.errors import InputError, StoreError
from mamori.match.knowledge import Knowledge
from mamori.portfolio.context import get_context, set_context
from mamori.store import Store, database, open_store
from mamori.store import engine as engines
from mamori.triage.records import list_records, set_record, validated
from match_support import build_store, cve_file, purl2cpe_subset

TSV = SHARED_DATA / "purl2cpe" / "purl2cpe.tsv"
PILLOW = SHARED_DATA / "osv" / "pypi" / "pillow"
CVE = "CVE-2022-36436"
VNC = "pkg:pypi/vncauthproxy"
PURLS = [VNC, "pkg:maven/com.fasterxml.jackson.core/jackson-databind", "pkg:pypi/oslo.utils"]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the Pillow advisories (OSV), one CVE 5 record, KEV and a few purl2cpe links, with a
    triage record and a product context (written through SQLAlchemy)."""
    record = cve_file(CVE)
    if not (TSV.is_file() and record.is_file() and PILLOW.is_dir()):
        pytest.skip("../shared/data is absent")
    folder = tmp_path_factory.mktemp("read-path")
    files = [PILLOW, record, SHARED_DATA / "kev", purl2cpe_subset(folder, PURLS)]
    with build_store(folder, files, complete=True) as store:
        set_record(
            store,
            validated("shop", "1.0", VNC + "@1.1.1", CVE, "not_affected", "code_not_reachable", who="tester"),
        )
        set_context(store, "shop", {"system_exposure": "small"}, reason="internal only", who="tester")
    return folder / "kb.db"


def _both(path: Path) -> tuple[Store, Store]:
    """The store opened as mamori opens it (sqlite3) and the same file through a SQLAlchemy engine."""
    fast = open_store(path)
    url = engines.resolve_url(path)
    return fast, Store(engines.create(url), url)


def test_a_current_sqlite_store_is_read_without_an_engine(store_path: Path) -> None:
    fast, slow = _both(store_path)
    with fast, slow:
        assert fast._engine is None and slow._engine is not None
        assert fast.display_url == slow.display_url
        assert fast.status() == slow.status()
        assert fast.status(strengths=False) == slow.status(strengths=False)
        assert fast.status()["sources"]["purl2cpe"]["strong"] >= 1
        assert "strong" not in fast.status(strengths=False)["sources"]["purl2cpe"]
        assert fast.coverage() == slow.coverage()
        assert all(isinstance(c["complete"], bool) for c in fast.coverage())
        for identifier in (CVE, "cve-2022-36436", "PYSEC-2014-22", "CVE-2021-44228", "GHSA-none-none-none"):
            assert fast.lookup(identifier) == slow.lookup(identifier), identifier
        assert fast.source_state("osv") == slow.source_state("osv") is not None
        assert fast.checkpoint("osv") == slow.checkpoint("osv")
        assert list_records(fast, "shop") == list_records(slow, "shop") != []
        assert get_context(fast, "shop") == get_context(slow, "shop") is not None
        assert get_context(fast, "no such product") is None


def test_knowledge_reads_the_same_through_both(store_path: Path) -> None:
    fast, slow = _both(store_path)
    with fast, slow:
        a, b = Knowledge(fast), Knowledge(slow)
        a.refresh(), b.refresh()
        assert a.newest_record == b.newest_record is not None
        packages = [("PyPI", "pillow"), ("PyPI", "no-such-package")]
        assert a.package_rows(packages) == b.package_rows(packages)
        assert a.package_rows(packages)[("PyPI", "pillow")]
        cpes = [("osuosl", "twisted_vnc_authentication_proxy"), ("none", "none")]
        assert a.cpe_rows(cpes) == b.cpe_rows(cpes)
        assert a.cpe_rows(cpes)[cpes[0]]
        keys = [("pypi", "", "vncauthproxy"), ("maven", "com.fasterxml.jackson.core", "jackson-databind")]
        assert a.links_of(keys) == b.links_of(keys) and a.links_of(keys)
        assert a.weak_links_of(keys) == b.weak_links_of(keys) and a.weak_links_of(keys)
        assert a.links_for(["pypi", "maven"]) == b.links_for(["pypi", "maven"])
        assert a.weak_links_for(["pypi"]) == b.weak_links_for(["pypi"])
        ids = sorted({row.vuln_id for rows in a.package_rows(packages).values() for row in rows})[:20]
        assert a.advisories(ids).keys() == b.advisories(ids).keys() == set(ids)
        assert a.vulnerabilities([*ids, CVE]) == b.vulnerabilities([*ids, CVE])
        cves = [CVE, "CVE-2021-44228", "CVE-2014-9601"]
        assert a.kev(cves) == b.kev(cves) and a.kev(cves)
        assert a.epss(cves) == b.epss(cves)
        assert a.status() == b.status()


def test_knowledge_records_are_the_stored_ones_without_what_only_matching_reads(store_path: Path) -> None:
    """A hit's record is rebuilt from the document matching just read, or read anew: the same record,
    the stored one without its affected packages, CPE configurations and products (and without the KEV
    catalog and EPSS, which come apart)."""
    with open_store(store_path) as store:
        matched, fresh = Knowledge(store), Knowledge(store)
        matched.refresh(), fresh.refresh()
        rows = matched.package_rows([("PyPI", "pillow")])[("PyPI", "pillow")]
        ids = sorted({row.vuln_id for row in rows})
        assert len(ids) > 20
        assert any(a.raw_packages for a in matched.advisories(ids).values())  # what matching reads
        records = matched.vulnerabilities([*ids, CVE])
        assert records == fresh.vulnerabilities([*ids, CVE])
        assert set(records) == {*ids, CVE}
        for vid, record in records.items():
            assert record.affected_packages == record.cpe_configurations == record.affected_products == []
            found = store.lookup(vid)
            assert found is not None
            stored = found.vulnerability
            assert stored.affected_packages or stored.affected_products or stored.cpe_configurations
            kept = {f.name for f in fields(stored)} - {
                "affected_packages", "cpe_configurations", "affected_products", "kev", "epss"
            }  # fmt: skip
            assert {k: getattr(record, k) for k in kept} == {k: getattr(stored, k) for k in kept}, vid
            assert all(k in stored.kev for k in record.kev)


def test_a_scan_imports_neither_sqlalchemy_nor_the_other_commands(store_path: Path, tmp_path: Path) -> None:
    sbom = tmp_path / "s.cdx.json"
    components = [
        {"type": "library", "name": "pillow", "version": "8.0.0", "purl": "pkg:pypi/pillow@8.0.0"},
        {"type": "library", "name": "vncauthproxy", "version": "1.1.1", "purl": VNC + "@1.1.1"},
    ]
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}))
    out = tmp_path / "report.json"
    script = (
        "import json, sys\n"
        "from mamori.cli.main import main\n"
        f"code = main(['scan', {str(sbom)!r}, '--db', {str(store_path)!r}, '-f', 'json', '-o', {str(out)!r}, "
        "'--allow-partial', '-q'])\n"
        "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'isal', 'getpass') "
        "or m.startswith('mamori.cli.'))]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    code, modules = json.loads(done.stdout.splitlines()[-1])
    assert code in (0, 1)
    assert not [m for m in modules if m.startswith("sqlalchemy")]
    assert not [m for m in modules if m.startswith("isal")]  # ISA-L compresses records: a scan writes none
    assert "getpass" not in modules  # who records a triage decision: a scan records none
    commands = {f"mamori.cli.{module}" for module, _, _ in SUBCOMMANDS.values()}
    assert [m for m in modules if m in commands] == ["mamori.cli.scan"]
    assert {f["vulnerability"]["id"] for f in json.loads(out.read_bytes())["findings"]}


def test_an_import_into_a_new_store_imports_no_sqlalchemy(tmp_path: Path) -> None:
    """``mamori db import`` into a new SQLite file creates it and writes every batch through sqlite3;
    the rows are those an import through the engine writes (a store opened through SQLAlchemy)."""
    if not PILLOW.is_dir():
        pytest.skip("../shared/data is absent")
    fast, slow = tmp_path / "fast.db", tmp_path / "slow.db"
    script = (
        "import json, sys\n"
        "from mamori.cli.main import main\n"
        f"code = main(['db', 'import', {str(PILLOW)!r}, '--db', {str(fast)!r}, '--format', 'json', "
        "'--batch', '7'])\n"
        "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy')]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    code, modules = json.loads(done.stdout.splitlines()[-1])
    assert code == 0
    assert modules == []
    from mamori.vulndb import import_path

    url = engines.resolve_url(slow)
    engine = engines.create(url)
    engines.migrate(engine)
    with Store(engine, url) as store:
        summary = import_path(store, PILLOW, batch=7)
    assert summary.batches > 2 and summary.records > 10

    def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
        conn = sqlite3.connect(path)
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        # when the import ran; the import's own random mark on the changes it notes
        timed = {"source_state": "updated_at", "coverage": "partial_at", "knowledge_change": "token"}
        out = {}
        for table in sorted(tables):
            columns = [
                r[1] for r in conn.execute(f'PRAGMA table_info("{table}")') if r[1] != timed.get(table)
            ]
            names = ", ".join(f'"{c}"' for c in columns)
            out[table] = sorted(conn.execute(f'SELECT {names} FROM "{table}"'), key=repr)
        conn.close()
        return out

    written = dump(fast)
    assert len(written["source_record"]) == summary.records
    assert written == dump(slow)


def test_only_a_store_at_the_head_revision_skips_sqlalchemy(tmp_path: Path) -> None:
    """Older revisions go to Alembic (migrated on open), unknown (newer) ones are refused, as before."""
    path = tmp_path / "kb.db"
    with open_store(path) as store:  # new: created from the shipped schema through sqlite3, at the head
        assert store._engine is None
    url = engines.resolve_url(path)
    head = engines.head_revision()
    older = engines.revisions()[head]
    assert older is not None

    def stamp(revision: str) -> None:
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        conn.close()

    assert database._current_sqlite(url)
    stamp(older)
    assert not database._current_sqlite(url)
    stamp("ffffffffffff")
    with pytest.raises(StoreError, match="ffffffffffff"):
        database._current_sqlite(url)
    with pytest.raises(StoreError, match="ffffffffffff"):
        open_store(path)
    stamp(head)
    with open_store(path) as store:
        assert store._engine is None
    assert engines.sqlite_path("sqlite:///a%20b.db") is None  # escapes: SQLAlchemy reads the URL
    assert engines.sqlite_path("postgresql+psycopg://u@h/db") is None
    assert engines.sqlite_path(url) == str(path)
    gone = f"sqlite+pysqlite:///{tmp_path / 'no-such-folder' / 'kb.db'}"
    with Store(None, gone) as store, pytest.raises(InputError, match="cannot open the database"):
        store.status()  # as the engine's first connection would have said
