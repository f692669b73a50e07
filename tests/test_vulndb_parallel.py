"""Documents parsed by worker processes give exactly the store a single process gives: same
records, same stored documents and digests, same merged vulnerabilities, aliases and indexes (package
and CPE rows), and the same report for a broken file and a rejected record. The input mixes OSV
YAML, CVE 5 JSON (with rejected CVEs), NVD 2.0, JVN and a KEV catalog, as a mirror folder would."""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from mamori.store import Store, open_store, schema
from mamori.vulndb import import_path, parallel

TABLES = (
    schema.SourceRecord,
    schema.Vulnerability,
    schema.Alias,
    schema.AffectedPackage,
    schema.AffectedCpe,
    schema.KevEntry,
)


def _content(store: Store) -> dict[str, list[tuple]]:
    out = {}
    with store.engine.connect() as conn:
        for table in TABLES:
            t = table.__table__
            columns = [c for c in t.c if c.name != "id" or table is schema.Vulnerability]
            out[t.name] = sorted((tuple(row) for row in conn.execute(select(*columns))), key=repr)
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
    (folder / "cve5").mkdir()
    cve5 = sorted((shared_data / "cve5").rglob("CVE-*.json"))[::25]  # every year, 326 records
    cve5.append(shared_data / "cve5" / "2019" / "25xxx" / "CVE-2019-25161.json")  # rejected: withdrawn
    for path in cve5:
        shutil.copyfile(path, folder / "cve5" / path.name)
    (folder / "other").mkdir()
    for path in [*(shared_data / "nvd").glob("*.json"), *(shared_data / "jvn").glob("*.xml")]:
        shutil.copyfile(path, folder / "other" / path.name)
    shutil.copyfile(
        shared_data / "kev" / "known_exploited_vulnerabilities.json", folder / "other" / "kev.json"
    )
    (folder / "zz" / "BROKEN-1.yaml").parent.mkdir()
    (folder / "zz" / "BROKEN-1.yaml").write_bytes(b"id: BROKEN-1\naffected: [\n")
    good = {"id": "MAMORI-TEST-1", "modified": "2024-01-01T00:00:00Z", "affected": []}
    bad = {"id": "MAMORI-TEST-2", "modified": "2024-01-01T00:00:00Z", "aliases": "not a list"}
    (folder / "zz" / "list.json").write_text(json.dumps([good, bad]))
    runs = {}
    for workers in ("0", "2"):
        monkeypatch.setenv("MAMORI_IMPORT_WORKERS", workers)
        prepared: list[str] = []  # the sources of the documents workers prepared
        original = parallel._unwire

        def spy(wired: list, prepared: list = prepared, original: object = original) -> object:
            prepared.extend(source for _, _, source, records in wired if records is not None)
            return original(wired)  # type: ignore[operator]

        monkeypatch.setattr(parallel, "_unwire", spy)
        with open_store(tmp_path / f"kb-{workers}.db") as store:
            summary = import_path(store, folder, batch=300)
            runs[workers] = (summary, _content(store), Counter(prepared))
    (serial, serial_rows, serial_pool), (pooled, pooled_rows, pooled_pool) = runs["0"], runs["2"]
    assert not serial_pool
    # OSV, CVE 5, NVD and JVN documents went through the workers; KEV, the broken file and the
    # list with a bad record were parsed by the main process
    assert pooled_pool["osv"] == len(files) and pooled_pool["cve5"] == len(cve5)
    assert pooled_pool["nvd"] > 0 and pooled_pool["jvn"] > 0
    assert [r.record for r in pooled.rejected] == ["MAMORI-TEST-2"]  # the list went to the main process
    assert pooled.sources["cve5"].withdrawn == serial.sources["cve5"].withdrawn == 1
    assert pooled_rows == serial_rows
    assert {k: len(v) for k, v in pooled_rows.items()} == {k: len(v) for k, v in serial_rows.items()}
    assert serial.sources["osv"].read == len(files) + 1 and serial.sources["cve5"].read == len(cve5)
    assert serial_rows["affected_cpe"] and serial_rows["kev"]
    assert [str(f) for f in pooled.failed] == [str(f) for f in serial.failed]
    assert len(serial.failed) == 1 and "BROKEN-1.yaml: not valid OSV JSON/YAML" in str(serial.failed[0])
    assert [str(r) for r in pooled.rejected] == [str(r) for r in serial.rejected]
    assert pooled.sources == serial.sources and pooled.skipped == serial.skipped


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_file_over_the_size_limit_is_reported_and_the_others_imported(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    folder = tmp_path / "osv"
    folder.mkdir()
    files = sorted((shared_data / "osv" / "pypi").rglob("*.yaml"))[:300]
    for path in files:
        shutil.copyfile(path, folder / path.name)
    limit = max(p.stat().st_size for p in files) + 1
    big = folder / "ZZZ-big.yaml"
    big.write_bytes(files[0].read_bytes() + b"#" * limit)
    monkeypatch.setenv("MAMORI_MAX_INPUT_BYTES", str(limit))
    monkeypatch.setenv("MAMORI_IMPORT_WORKERS", workers)
    with open_store(tmp_path / "kb.db") as store:
        summary = import_path(store, folder)
    assert summary.sources["osv"].read == len(files)
    assert [f.name for f in summary.failed] == [str(big)]
    assert "over" in summary.failed[0].reason or "limit" in summary.failed[0].reason


def _osv_folder(shared_data: Path, target: Path, count: int) -> Path:
    for path in sorted((shared_data / "osv" / "pypi").rglob("*.yaml"))[:count]:
        (target / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / path.parent.name / path.name)
    return target


def test_decoding_read_ahead_gives_the_same_store(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers start on the first documents before the store is opened (the CLI's order), and
    the store holds exactly what an import without that head start writes."""
    monkeypatch.setenv("MAMORI_IMPORT_WORKERS", "2")
    folder = _osv_folder(shared_data, tmp_path / "osv", 400)
    began = time.perf_counter()
    ahead = parallel.read_ahead(folder)
    pool = ahead.decoding._pool
    assert pool is not None and pool.pending  # chunks handed out before any store exists
    with open_store(tmp_path / "ahead.db") as store:
        opened = time.perf_counter()
        early = import_path(store, folder, batch=150, ahead=ahead)
        ended = time.perf_counter()
        early_rows = _content(store)
    assert not pool.pending
    # the import's time counts from when its documents began to be read, not from the store's opening
    assert ended - opened <= early.seconds <= ended - began
    with open_store(tmp_path / "plain.db") as store:
        plain = import_path(store, folder, batch=150)
        plain_rows = _content(store)
    assert early.sources == plain.sources and early.sources["osv"].read == 400
    assert early_rows == plain_rows and early_rows["source_record"]


def test_a_resumed_import_drops_the_read_ahead(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupted import's rerun starts after what was committed, head start or not: the
    decoding started from the first document is stopped and the remaining documents are read."""
    monkeypatch.setenv("MAMORI_IMPORT_WORKERS", "2")
    folder = _osv_folder(shared_data, tmp_path / "osv", 400)

    def interrupt(progress: object) -> None:
        if progress.files_done == 300:  # type: ignore[attr-defined]
            raise KeyboardInterrupt

    with open_store(tmp_path / "kb.db") as store:
        with pytest.raises(KeyboardInterrupt):
            import_path(store, folder, batch=50, progress=interrupt)
        committed = store.status()["sources"]["osv"]["records"]
        assert 0 < committed < 400
        ahead = parallel.read_ahead(folder)
        pool = ahead.decoding._pool
        assert pool is not None and pool.pending
        summary = import_path(store, folder, batch=50, ahead=ahead)
        assert not pool.pending  # stopped: the rerun did not read from it
        assert summary.resumed > 0 and summary.files == 400
        assert summary.sources["osv"].read == 400 and summary.complete
        assert store.status()["sources"]["osv"]["records"] == 400


def test_a_read_ahead_of_another_input_is_refused(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_IMPORT_WORKERS", "2")
    folder = _osv_folder(shared_data, tmp_path / "osv", 300)
    ahead = parallel.read_ahead(folder)
    with open_store(tmp_path / "kb.db") as store:
        with pytest.raises(ValueError, match="read ahead"):
            import_path(store, tmp_path, ahead=ahead)
        assert store.status()["sources"] == {}
    assert ahead.decoding._pool is not None and not ahead.decoding._pool.pending  # closed
