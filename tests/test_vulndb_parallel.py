"""OSV YAML decoded by worker processes gives exactly the store a single process gives: same
records, same stored documents and digests, same merged vulnerabilities, aliases and indexes, and
the same report for a broken file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from mamori.store import Store, open_store, schema
from mamori.vulndb import import_path, parallel

TABLES = (schema.SourceRecord, schema.Vulnerability, schema.Alias, schema.AffectedPackage)


def _content(store: Store) -> dict[str, list[tuple]]:
    out = {}
    with store.engine.connect() as conn:
        for table in TABLES:
            t = table.__table__
            columns = [c for c in t.c if c.name != "id" or table is schema.Vulnerability]
            out[t.name] = sorted(tuple(row) for row in conn.execute(select(*columns)))
    return out


def test_workers_give_the_same_store(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "osv"
    files = sorted((shared_data / "osv" / "pypi").rglob("*.yaml"))[:700]
    for path in files:
        target = folder / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (folder / "zz" / "BROKEN-1.yaml").parent.mkdir()
    (folder / "zz" / "BROKEN-1.yaml").write_bytes(b"id: BROKEN-1\naffected: [\n")
    runs = {}
    for workers in ("0", "2"):
        monkeypatch.setenv("MAMORI_IMPORT_WORKERS", workers)
        used = []
        original = parallel._pooled

        def spy(*args: object, used: list = used, original: object = original) -> object:
            used.append(True)
            return original(*args)  # type: ignore[operator]

        monkeypatch.setattr(parallel, "_pooled", spy)
        with open_store(tmp_path / f"kb-{workers}.db") as store:
            summary = import_path(store, folder, batch=300)
            runs[workers] = (summary, _content(store), bool(used))
    (serial, serial_rows, serial_pool), (pooled, pooled_rows, pooled_pool) = runs["0"], runs["2"]
    assert not serial_pool and pooled_pool
    assert pooled_rows == serial_rows and len(serial_rows["source_record"]) == len(files)
    assert [str(f) for f in pooled.failed] == [str(f) for f in serial.failed]
    assert len(serial.failed) == 1 and "BROKEN-1.yaml: not valid OSV JSON/YAML" in str(serial.failed[0])
    assert pooled.sources == serial.sources
