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
from pathlib import Path

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


def test_stopped_inside_one_document_resumes_at_the_record(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (shared_data / "purl2cpe" / "purl2cpe.tsv").read_bytes().splitlines(keepends=True)[:1200]
    blob = Blob("purl2cpe-head.tsv", b"".join(lines))
    resume = Resume("head-1200", lambda n: [blob][n:])
    with open_store(tmp_path / "whole.db") as store:
        whole = import_blobs(store, [blob], origin="head", resume=resume)
        expected = store.status()["sources"]["purl2cpe"]["records"]

    calls = {"n": 0}
    original = Writer.put_purl_cpe

    def failing(self: Writer, links: object) -> int:
        calls["n"] += 1
        if calls["n"] == 4:
            raise _Boom("the machine went down")
        return original(self, links)  # type: ignore[arg-type]

    monkeypatch.setattr(Writer, "put_purl_cpe", failing)
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
