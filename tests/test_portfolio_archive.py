"""Products, releases and SBOMs archived with provenance; the migration; the CLI commands
``mamori product``, ``mamori release`` and ``mamori portfolio`` (SQLite; PostgreSQL when
MAMORI_TEST_PG_URL is set)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mamori import __version__
from mamori.cli.main import main
from mamori.errors import InputError
from mamori.portfolio import add_product, original_bytes, store_sbom
from mamori.portfolio import tables as t
from mamori.portfolio.views import products, release
from mamori.store import Store
from mamori.store.engine import alembic_config
from mamori.store.schema import Base
from portfolio_support import DROPWIZARD, kb, knowledge_template, sbom_file

__all__ = ["kb", "knowledge_template"]  # fixtures used below

PORTFOLIO_TABLES = {
    t.ProductRow.__tablename__,
    t.ReleaseRow.__tablename__,
    t.SbomRow.__tablename__,
    t.ComponentRow.__tablename__,
    t.ComponentCpeRow.__tablename__,
    t.SbomComponentRow.__tablename__,
    t.MatchRow.__tablename__,
    t.FindingRow.__tablename__,
    t.RunRow.__tablename__,
    t.RecordSeenRow.__tablename__,
}


def _table_of(diff: object) -> str | None:
    """The table a compare_metadata difference concerns."""
    item = diff[0] if isinstance(diff, list) else diff
    assert isinstance(item, tuple)
    op, first = item[0], item[1]
    if op in ("add_table", "remove_table"):
        return first.name
    if op in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return first.table.name
    if op in ("add_fk", "remove_fk"):
        return first.parent.name
    return str(item[2])  # add_column, remove_column, modify_* (schema, table, column …)


# SQLite's expression index of purl2cpe names cannot be reflected; tests/test_store_new_schema.py compares its statement
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_one_migration_head_and_the_tables_match_the_models(kb: Store) -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1
    with kb.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == heads[0]
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    mine = [d for d in diff if _table_of(d) in PORTFOLIO_TABLES]
    assert mine == []
    assert len(PORTFOLIO_TABLES) == 10


def test_product_add_refuses_duplicates_and_empty_names(kb: Store) -> None:
    add_product(kb, "router", "ACME 株式会社", who="alice")
    with pytest.raises(InputError, match="exists already"):
        add_product(kb, " router ")
    with pytest.raises(InputError, match="product name is required"):
        add_product(kb, "  ")
    listed = products(kb)
    assert [(p["name"], p["supplier"], p["created_by"], p["releases"]) for p in listed] == [
        ("router", "ACME 株式会社", "alice", [])
    ]


def test_sbom_is_archived_with_provenance_and_revisions(kb: Store) -> None:
    add_product(kb, "dropwizard")
    first, second = DROPWIZARD / "bom.json", DROPWIZARD / "bom.xml"
    stored = store_sbom(kb, "dropwizard", "1.3.15", first, who="alice")
    assert (stored.revision, stored.format, stored.unchanged) == (1, "cyclonedx-json", False)
    assert stored.sha256 == hashlib.sha256(first.read_bytes()).hexdigest()
    again = store_sbom(kb, "dropwizard", "1.3.15", first, who="bob")
    assert (again.unchanged, again.revision, again.sbom_id) == (True, 1, stored.sbom_id)
    xml = store_sbom(kb, "dropwizard", "1.3.15", second, who="bob")
    assert (xml.revision, xml.format, xml.previous_sbom_id) == (2, "cyclonedx-xml", stored.sbom_id)
    assert xml.components == stored.components > 100  # the same components, in XML
    view = release(kb, "dropwizard", "1.3.15")
    one, two = view["revisions"]
    assert (one["imported_by"], two["imported_by"]) == ("alice", "bob")
    assert one["file_name"] == "bom.json" and one["spec_version"] == "1.2"
    assert one["importer"] == f"mamori {__version__}"
    assert "CycloneDX Maven plugin" in (one["tools"] or "")
    assert one["size"] == first.stat().st_size and one["sha256"] == stored.sha256
    assert view["sbom"] == two and view["summary"]["components"] == xml.components
    assert original_bytes(kb, "dropwizard", "1.3.15", 1) == first.read_bytes()
    assert original_bytes(kb, "dropwizard", "1.3.15") == second.read_bytes()
    c = t.ComponentRow.__table__
    with kb.engine.connect() as conn:
        row = conn.execute(c.select().where(c.c.name == "jackson-databind")).one()
    assert (row.ecosystem, row.name_key) == ("Maven", "com.fasterxml.jackson.core:jackson-databind")
    assert (row.link_type, row.link_namespace, row.link_name) == (
        "maven",
        "com.fasterxml.jackson.core",
        "jackson-databind",
    )
    assert row.purl_base == "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
    assert row.ref == row.purl and row.version == "2.9.10" and row.problem is None


def test_release_add_refuses_bad_input(kb: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no product 'nothing'"):
        store_sbom(kb, "nothing", "1", DROPWIZARD / "bom.json")
    add_product(kb, "p")
    broken = tmp_path / "broken.cdx.json"
    broken.write_bytes(b'{"bomFormat": "CycloneDX", "specVersion": "1.4", "components": [')
    with pytest.raises(InputError) as raised:
        store_sbom(kb, "p", "1", broken)
    assert "broken.cdx.json" in str(raised.value)
    with pytest.raises(InputError, match="file not found"):
        store_sbom(kb, "p", "1", tmp_path / "absent.json")
    with pytest.raises(InputError, match="has no release"):
        release(kb, "p", "1")
    assert products(kb)[0]["releases"] == []


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_product_release_portfolio(kb: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = kb.url
    sbom = sbom_file(tmp_path / "shop.cdx.json", ["pkg:pypi/django@1.11.20", "pkg:pypi/requests@2.19.0"])
    assert _cli(capsys, "product", "add", "shop", "--supplier", "ACME", "--db", db)[0] == 0
    code, out, _ = _cli(capsys, "product", "add", "shop", "--db", db)
    assert code == 2
    code, out, _ = _cli(
        capsys, "release", "add", "shop", "1.0", "--sbom", str(sbom), "--db", db, "--lang", "ja"
    )
    assert code == 0 and "改訂 1" in out and "全件" not in out
    assert hashlib.sha256(sbom.read_bytes()).hexdigest() in out
    code, out, _ = _cli(capsys, "release", "add", "shop", "1.0", "--sbom", str(sbom), "--db", db)
    assert code == 0 and "nothing stored" in out
    code, out, _ = _cli(capsys, "release", "show", "shop", "1.0", "--format", "json", "--db", db)
    view = json.loads(out)
    assert view["product"] == {"name": "shop", "supplier": "ACME"}
    assert (
        view["summary"]["components"] == 2 and view["summary"]["open_findings"] == len(view["findings"]) > 0
    )
    assert {f["component"]["name"] for f in view["findings"]} <= {"django", "requests"}
    code, out, _ = _cli(capsys, "release", "show", "shop", "1.0", "--db", db)
    assert code == 0 and view["findings"][0]["vulnerability"]["id"] in out
    code, out, _ = _cli(capsys, "portfolio", "rematch", "--changed-only", "--format", "json", "--db", db)
    summary = json.loads(out)
    assert (summary["mode"], summary["components"]) == ("full", 2) and summary["note"]
    code, out, _ = _cli(capsys, "portfolio", "rematch", "--changed-only", "--db", db)
    assert code == 0 and "Changed-only re-match: 0 components" in out
    code, out, _ = _cli(capsys, "portfolio", "findings", "--product", "shop", "--format", "json", "--db", db)
    listed = json.loads(out)
    assert listed["summary"]["open_findings"] == view["summary"]["open_findings"]
    assert {f["release"] for f in listed["findings"]} == {"1.0"}
    code, out, _ = _cli(capsys, "product", "list", "--format", "json", "--db", db)
    assert json.loads(out)["products"][0]["releases"][0]["open_findings"] == view["summary"]["open_findings"]
    code, out, _ = _cli(capsys, "portfolio", "findings", "--db", db, "--lang", "ja")
    assert code == 0 and "未対応の検出" in out
    assert "PyPI ✓ (osv、" in out and "カバレッジ: " in out  # the coverage under the summary
    assert {c["scope"]: c["complete"] for c in listed["coverage"]}["PyPI"] is True


def test_cli_errors_are_one_line(kb: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = kb.url
    code, _, err = _cli(
        capsys, "release", "add", "ghost", "1", "--sbom", str(DROPWIZARD / "bom.json"), "--db", db
    )
    assert code == 2 and err.count("\n") == 1 and "no product 'ghost'" in err
    code, _, err = _cli(capsys, "release", "show", "ghost", "1", "--db", db)
    assert code == 2 and err.startswith("mamori: error:")
    code, _, err = _cli(capsys, "portfolio", "findings", "--format", "xml", "--db", db)
    assert code == 2 and "--format" in err
    code, _, err = _cli(capsys, "portfolio", "findings", "--product", "ghost", "--db", db)
    assert code == 2 and "ghost" in err
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not an SBOM\n", encoding="utf-8")
    _cli(capsys, "product", "add", "p", "--db", db)
    code, _, err = _cli(capsys, "release", "add", "p", "1", "--sbom", str(garbage), "--db", db)
    assert code == 2 and "notes.txt" in err and err.count("\n") == 1


def test_cli_module_imports_nothing_heavy() -> None:
    code = "import sys, mamori.cli.product; print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'rich', 'univers'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
