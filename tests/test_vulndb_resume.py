"""Nothing lost: an import killed for real (SIGKILL) leaves the committed batches intact and
consistent, and rerunning it resumes after them and ends with the right counts; an import that
stops inside one big document resumes at the record it was on."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from mamori.store import open_store
from mamori.store.writer import Writer
from mamori.vulndb import Blob, import_blobs, import_path
from mamori.vulndb.importer import Resume, checkpoint_key

YEAR = "2019"  # 722 CVE 5 records: big enough to kill mid-run, small enough to stay quick


def _checkpoint(db: Path) -> dict | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute("SELECT cursor FROM source_state WHERE source LIKE '~%'").fetchone()
    except sqlite3.OperationalError:  # not created yet, or busy
        return None
    return orjson.loads(row[0]) if row else None


def test_sigkill_mid_import_keeps_committed_batches_and_a_rerun_resumes(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cve5"
    shutil.copytree(shared_data / "cve5" / YEAR, folder)
    files = sorted(folder.rglob("*.json"))
    db = tmp_path / "kb.db"
    command = [sys.executable, "-c", "from mamori.cli.main import run; run()", "db", "import", str(folder)]
    command += ["--db", str(db), "--batch", "25", "--format", "json"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    seen = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        seen = _checkpoint(db)
        if seen and seen["position"] >= 3:
            os.killpg(child.pid, signal.SIGKILL)  # the process group this test started
            break
        time.sleep(0.005)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the import ended before it could be killed"

    # what the killed run committed is intact and agrees with its last checkpoint
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = conn.execute("SELECT count(*) FROM source_record").fetchone()[0]
        orphans = conn.execute(
            "SELECT count(*) FROM alias a LEFT JOIN vulnerability v ON a.vuln_id = v.id WHERE v.id IS NULL"
        ).fetchone()[0]
    last = _checkpoint(db)
    assert last is not None and last["position"] >= seen["position"]
    counts = last["summary"]["sources"]["cve5"]
    assert stored == counts["new"] == counts["read"] > 0 and orphans == 0
    assert stored < len(files)

    # the rerun starts after the committed documents and ends with every record
    with open_store(db) as store:
        summary = import_path(store, folder, batch=25)
        status = store.status()["sources"]
        assert _checkpoint(db) is None  # a finished import leaves no checkpoint
    assert summary.resumed == last["position"] > 0
    assert summary.files == len(files) and summary.sources["cve5"].read == len(files)
    assert summary.sources["cve5"].new == len(files) and summary.complete
    assert status["cve5"]["records"] == len(files)


class _Boom(RuntimeError):
    pass


def _failing_on(method: Callable[..., Any], call: int, error: Exception) -> Callable[..., Any]:
    """``method`` that raises ``error`` on its ``call``-th call (counted in ``.calls``)."""

    def failing(self: Writer, items: Any) -> Any:
        failing.calls += 1  # type: ignore[attr-defined]
        if failing.calls == call:  # type: ignore[attr-defined]
            raise error
        return method(self, items)

    failing.calls = 0  # type: ignore[attr-defined]
    return failing


def test_stopped_inside_one_document_resumes_at_the_record(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (shared_data / "purl2cpe" / "purl2cpe.tsv").read_bytes().splitlines(keepends=True)[:1200]
    blob = Blob("purl2cpe-head.tsv", b"".join(lines))
    resume = Resume("head-1200", lambda n: [blob][n:])
    with open_store(tmp_path / "whole.db") as store:
        whole = import_blobs(store, [blob], origin="head", resume=resume)
        expected = store.status()["sources"]["purl2cpe"]["records"]

    original = Writer.put_purl_cpe
    monkeypatch.setattr(Writer, "put_purl_cpe", _failing_on(original, 4, _Boom("the machine went down")))
    with open_store(tmp_path / "kb.db") as store:
        with pytest.raises(_Boom):
            import_blobs(store, [blob], origin="head", batch=10, resume=resume)
        saved = store.checkpoint(checkpoint_key("head", None))
        assert saved is not None and saved["position"] == 0 and saved["item"] == 3 * 250
        written: list[int] = []

        def counting(self: Writer, links: list) -> int:
            written.append(len(links))
            return original(self, links)

        monkeypatch.setattr(Writer, "put_purl_cpe", counting)
        again = import_blobs(store, [blob], origin="head", batch=10, resume=resume)
        assert store.checkpoint(checkpoint_key("head", None)) is None
        assert store.status()["sources"]["purl2cpe"]["records"] == expected
    counts, want = again.sources["purl2cpe"], whole.sources["purl2cpe"]
    assert (counts.read, counts.rejected) == (want.read, want.rejected)
    assert sum(written) == want.read - 3 * 250  # the rerun wrote only what was not committed


def test_a_changed_input_is_not_resumed(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "salt"
    shutil.copytree(shared_data / "osv" / "pypi" / "salt", folder)
    key = checkpoint_key(str(folder.resolve()), None)
    with open_store(tmp_path / "kb.db") as store:
        with store.writer() as writer:  # as if an earlier run had stopped after 3 files
            writer.save_checkpoint(
                key, str(folder), {"fingerprint": "other", "position": 3, "item": 0, "summary": {}}
            )
        summary = import_path(store, folder)
    assert summary.resumed == 0 and summary.sources["osv"].new == len(list(folder.glob("*.yaml")))


def _osv_folder(folder: Path, count: int) -> Path:
    """``count`` small OSV records, one per file (made here: the batch schedule needs an exact count)."""
    folder.mkdir()
    for i in range(count):
        record = {
            "id": f"MAMORI-TEST-{i:04d}",
            "modified": "2024-01-01T00:00:00Z",
            "aliases": [f"CVE-2099-{i:04d}"],
            "affected": [{"package": {"ecosystem": "PyPI", "name": f"pkg{i}"}, "versions": ["1.0"]}],
        }
        (folder / f"MAMORI-TEST-{i:04d}.json").write_bytes(orjson.dumps(record))
    return folder


def test_batches_start_small_then_double(tmp_path: Path) -> None:
    """Writing starts after 500 records (the next batches double up to --batch), the last batch is
    written when the input ends; a smaller --batch is kept from the start."""
    folder = _osv_folder(tmp_path / "osv", 1600)
    sizes: list[int] = []
    original = Writer.put_vulnerabilities

    def recording(self: Writer, records: list) -> object:
        sizes.append(len(records))
        return original(self, records)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Writer, "put_vulnerabilities", recording)
        for batch, expected in ((2000, [500, 1000, 100]), (300, [300] * 5 + [100])):
            sizes.clear()
            with open_store(tmp_path / f"b{batch}.db") as store:
                summary = import_path(store, folder, batch=batch)
                assert store.status()["sources"]["osv"]["records"] == 1600
            assert sizes == expected and summary.batches == len(expected)
            assert summary.sources["osv"].new == 1600 and summary.complete


def test_a_failed_write_stops_the_import_and_a_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that cannot be written stops the run at the next hand-over with that error, even a
    ValueError (which, raised by a document, only marks that document as failed); the batches
    before it stay committed and a rerun resumes after them."""
    folder = _osv_folder(tmp_path / "osv", 1600)
    original = Writer.put_vulnerabilities
    failing = _failing_on(original, 2, ValueError("the disk is full"))
    monkeypatch.setattr(Writer, "put_vulnerabilities", failing)
    read: list[int] = []
    with open_store(tmp_path / "kb.db") as store:
        with pytest.raises(ValueError, match="the disk is full"):
            import_path(store, folder, batch=300, progress=lambda p: read.append(p.files_done))
        assert max(read, default=0) < 900  # stopped when the third batch was handed over
        assert failing.calls == 2  # type: ignore[attr-defined]
        saved = store.checkpoint(checkpoint_key(str(folder.resolve()), None))
        assert saved is not None and (saved["position"], saved["item"]) == (299, 1)
        assert saved["summary"]["sources"]["osv"]["new"] == saved["summary"]["sources"]["osv"]["read"] == 300
        assert saved["summary"]["failed"] == []
        assert store.status()["sources"]["osv"]["records"] == 300

        monkeypatch.setattr(Writer, "put_vulnerabilities", original)
        again = import_path(store, folder, batch=300)
        assert store.status()["sources"]["osv"]["records"] == 1600
    assert again.resumed == 299 and again.complete
    assert (again.files, again.sources["osv"].read, again.sources["osv"].new) == (1600, 1600, 1600)


def test_an_in_memory_store_is_written_in_the_importing_thread(tmp_path: Path) -> None:
    """SQLite in memory has one connection per thread: its batches are written in the caller's thread."""
    folder = _osv_folder(tmp_path / "osv", 1600)
    with open_store("sqlite://") as store:
        summary = import_path(store, folder)
        status = store.status()
    assert summary.batches == 3 and summary.sources["osv"].new == 1600
    assert status["sources"]["osv"]["records"] == status["vulnerabilities"] == 1600
