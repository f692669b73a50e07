"""The column rules imports check records against (:mod:`mamori.store.limits`) are shipped as data
(``data/store/columns.json``) so the import workers need neither SQLAlchemy nor the table modules:
the file must be what the tables' metadata says now, and a file of another revision is not used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from mamori.store import limits
from mamori.store.engine import head_revision
from mamori.store.registry import all_metadata


def test_shipped_rules_are_the_metadata_rules() -> None:
    shipped = limits.shipped_columns()
    assert shipped is not None, "columns.json is not this revision's: run python tools/new_schema.py"
    tables = all_metadata().tables
    assert set(shipped) == set(tables)
    for name, table in tables.items():
        assert shipped[name] == limits.column_rules(table), name
    assert limits.COLUMNS.read_text(encoding="utf-8") == limits.render_columns(str(head_revision()))


def test_a_rule_file_of_another_revision_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = orjson.loads(limits.COLUMNS.read_bytes())
    data["revision"] = "older"
    data["tables"]["source_record"]["record_id"] = ["str", 3, False]  # what an older schema might say
    stale = tmp_path / "columns.json"
    stale.write_bytes(orjson.dumps(data))
    monkeypatch.setattr(limits, "COLUMNS", stale)
    monkeypatch.setattr(limits, "_RULES", {})
    monkeypatch.setattr(limits, "_SHIPPED", [])
    assert limits.shipped_columns() is None
    row = {"source": "osv", "record_id": "GHSA-xxxx-xxxx-xxxx", "feed": "", "vuln_id": "GHSA-xxxx-xxxx-xxxx"}
    assert limits.row_problem("source_record", row) is None  # the metadata's limit (200), not 3
    long_row = dict(row, record_id="x" * 201)
    problem = limits.row_problem("source_record", long_row)
    assert problem is not None and problem.limit == 200 and problem.column == "record_id"


def test_a_row_is_judged_the_same_by_table_and_by_name() -> None:
    from mamori.store import schema

    rows = [
        {"alias_key": "CVE-2024-0001", "vuln_id": "CVE-2024-0001", "alias": "CVE-2024-0001"},
        {"alias_key": "x" * 201, "vuln_id": "CVE-2024-0001", "alias": "a"},
        {"alias_key": "k", "vuln_id": "v", "alias": "bad\x00text"},
        {"alias_key": "k", "vuln_id": None, "alias": "a"},
        {"alias_key": "k", "vuln_id": "v", "alias": ["a list"]},
    ]
    for row in rows:
        assert limits.row_problem("alias", row) == limits.row_problem(schema.Alias.__table__, row)
    assert [limits.row_problem("alias", r) is None for r in rows] == [True, False, False, False, False]


def test_import_workers_need_no_sqlalchemy(tmp_path: Path) -> None:
    """What a worker runs (parsing and checking a record) imports neither SQLAlchemy nor the tables."""
    code = (
        "import sys\n"
        "from mamori.vulndb.parallel import decode\n"
        "from mamori.vulndb.sources import Blob\n"
        "from pathlib import Path\n"
        "d = decode(Blob('GHSA.json', Path(sys.argv[1]).read_bytes()))\n"
        "assert d.records, d\n"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy') or m == 'mamori.store.schema'))\n"
    )
    record = {
        "id": "GHSA-aaaa-bbbb-cccc",
        "modified": "2024-01-02T00:00:00Z",
        "aliases": ["CVE-2024-0001"],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "example"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}],
            }
        ],
    }
    path = tmp_path / "GHSA-aaaa-bbbb-cccc.json"
    path.write_bytes(orjson.dumps(record))
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
