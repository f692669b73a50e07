"""``mamori db sync`` with no arguments, against a loopback server serving real-format dumps built from
../shared/data: OSV's ecosystems.txt and one all.zip per ecosystem, NVD API pages, MyJVN answers, the
KEV catalog, an EPSS csv.gz and a purl2cpe repository archive. A fresh store gets every source and
coverage claims for every whole feed; the next sync is incremental; a sync interrupted (Ctrl-C, or
killed with SIGKILL) claims nothing for the feed it was in and, rerun, ends with the same store as an
uninterrupted one."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest
from packageurl import PackageURL

from kb_support import BACKENDS, fresh_store_url, kb_rows, pg_server, service_env  # noqa: F401
from mamori.cli.main import main
from mamori.errors import InputError
from mamori.store import Store, open_store
from mamori.vulndb.importer import Progress
from mamori.vulndb.online import Clock, Fetcher, SyncOptions, sync_source
from mamori.vulndb.online.osv_feed import parse_ecosystems
from mamori.vulndb.online.purl2cpe_feed import is_purls_member
from vulndb_server import Server, Services

EMPTY = ("GitHub Actions", "Red Hat")  # listed by OSV, exported with no record here; names with a space


def _services(shared: Path, pypi: Path, rows: int | None = 1000) -> Services:
    misc = tuple(sorted((shared / "osv" / "misc").glob("*.json")))
    return Services(shared, pypi, osv_more=misc, empty_ecosystems=EMPTY, purl2cpe_rows=rows)


@pytest.fixture
def server(shared_data: Path) -> Iterator[Server]:
    with Server(_services(shared_data, shared_data / "osv" / "pypi" / "pillow")) as running:
        yield running


@pytest.fixture
def env(server: Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = service_env(server)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAMORI_NVD_API_KEY", raising=False)
    return values


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path, pg_server: str | None) -> str:  # noqa: F811
    return fresh_store_url(request.param, tmp_path, pg_server)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    clock = FakeClock()
    with Fetcher(clock=Clock(clock.now, clock.sleep), rng=random.Random(4), timeout=10) as f:
        yield f


def _complete(store: Store) -> dict[tuple[str, str], int]:
    """(source, scope) → records, for the scopes recorded as complete."""
    return {(c["source"], c["scope"]): c["records"] for c in store.coverage() if c["complete"]}


def _links(store: Store) -> set[tuple[str, str, str]]:
    from sqlalchemy import select

    from mamori.store import schema

    t = schema.PurlCpe.__table__
    with store.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(select(t.c.purl, t.c.cpe_vendor, t.c.cpe_product))}


def _normal(links: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """The links as stored: the package without version, qualifiers or subpath."""
    out = set()
    for purl, vendor, product in links:
        package = PackageURL.from_string(purl)._replace(version=None, qualifiers={}, subpath=None)
        out.add((package.to_string(), vendor.lower(), product.lower()))
    return out


# ------------------------------------------------------------------------------ the whole route


def test_no_argument_sync_fetches_every_source_claims_coverage_then_goes_incremental(
    server: Server, env: dict[str, str], db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    services = server.services
    code = main(["db", "sync", "--db", db, "--format", "json"])
    out = orjson.loads(capsys.readouterr().out)
    assert code == 0, out
    sources = out["sources"]
    assert list(sources) == ["kev", "epss", "nvd", "jvn", "osv", "purl2cpe"]
    assert all(s["error"] is None and not s["failed"] and not s["rejected"] for s in sources.values())
    assert sources["kev"]["counts"]["new"] == 1404 and sources["epss"]["counts"]["read"] == 3
    assert sources["nvd"]["counts"]["new"] == len(services.nvd) == 6
    assert sources["jvn"]["counts"]["new"] == 1
    # every ecosystem ecosystems.txt lists, each export once (names URL-encoded), empty ones too
    listed = services.ecosystems_txt.decode().splitlines()
    assert {"PyPI", "Debian", "Go", "Maven", "npm"} <= set(services.exports) and len(services.exports) >= 8
    fetched = [p for _, p, _, _ in services.requests if p.endswith("/all.zip")]
    assert sorted(fetched) == sorted(f"/osv/{e.replace(' ', '%20')}/all.zip" for e in services.exports)
    assert "/osv/Red%20Hat/all.zip" in fetched and sorted(listed) == sorted(services.exports)
    exported = {rid for records in services.exported.values() for rid in records}
    assert sources["osv"]["files"] == sum(len(r) for r in services.exported.values())
    assert sources["osv"]["counts"]["new"] == len(exported)
    claimed = {(c["source"], scope) for c in sources["osv"]["complete"] for scope in c["scopes"]}
    assert claimed == {("osv", e) for e in services.exports}
    assert sources["nvd"]["complete"] == [{"source": "nvd", "scopes": ["cpe"]}]
    assert sources["jvn"]["complete"] == [{"source": "jvn", "scopes": ["cpe"]}]
    assert sources["kev"]["complete"] == [] and sources["purl2cpe"]["complete"] == []
    # purl2cpe: only data/<vendor>/<product>/purls.yml of the archive is read (not cpes.yml, README, CI yml)
    assert sources["purl2cpe"]["files"] == len({(v, p) for _, v, p in services.purl2cpe_links})
    assert sources["purl2cpe"]["counts"]["read"] == 1000

    with open_store(db) as store:
        complete = _complete(store)
        status = store.status()
        assert _links(store) == _normal(services.purl2cpe_links)
    assert set(complete) == {("osv", e) for e in services.exports} | {("nvd", "cpe"), ("jvn", "cpe")}
    assert complete[("osv", "Red Hat")] == complete[("osv", "GitHub Actions")] == 0
    assert complete[("osv", "PyPI")] == len(services.exported["PyPI"])
    assert complete[("osv", "Debian")] == 1  # DSA-5474-1 names Debian:11 and Debian:12
    assert complete[("nvd", "cpe")] == 6 and complete[("jvn", "cpe")] == 1
    assert status["sources"]["purl2cpe"]["records"] == len(_normal(services.purl2cpe_links))
    assert status["sources"]["kev"]["records"] == 1404

    # the second sync is incremental: unchanged downloads are not fetched again, NVD and JVN ask
    # for what changed since the first; the coverage is still claimed (the data was checked)
    before = len(services.requests)
    code = main(["db", "sync", "--db", db, "--lang", "en"])
    text = capsys.readouterr().out
    assert code == 0, text
    again = services.requests[before:]
    downloads = [(p, h) for _, p, _, h in again if p.endswith((".zip", ".json", ".gz"))]
    assert downloads and all("If-None-Match" in h for _, h in downloads)
    nvd = [q for _, p, q, _ in again if p == "/nvd"]
    assert len(nvd) == 1 and "lastModStartDate" in nvd[0]
    jvn = [q for _, p, q, _ in again if p == "/myjvn" and q["method"] == ["getVulnOverviewList"]]
    assert "datePublishedStartY" in jvn[0]
    lines = {line.split(":")[0]: line for line in text.splitlines()}
    assert (
        lines["osv"].startswith("osv: 0 steps, 0 read")
        and f"{len(services.exports)} not modified" in lines["osv"]
    )
    assert "complete: osv " in lines["osv"] and "Red Hat" in lines["osv"]
    assert lines["nvd"].startswith("nvd: 1 steps, 0 read") and lines["nvd"].endswith("complete: nvd cpe")
    assert lines["kev"].startswith("kev: 0 steps") and "1 not modified" in lines["kev"]
    assert "purl2cpe: 0 steps" in lines["purl2cpe"] and "complete" not in lines["purl2cpe"]
    assert " s; " in lines["kev"]  # the time each source took
    with open_store(db) as store:
        assert set(_complete(store)) == set(complete)
        records = {k: v["records"] for k, v in store.status()["sources"].items()}
    assert records == {k: v["records"] for k, v in status["sources"].items()}


def test_japanese_summary_names_time_and_coverage(env: dict[str, str], tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "kb.db")
    code = main(["db", "sync", "--source", "nvd", "--source", "kev", "--db", db, "--lang", "ja"])
    out = capsys.readouterr().out
    assert code == 0
    assert "nvd: 1 ステップ、読込 6 件" in out and "網羅済み: nvd cpe" in out and " 秒" in out
    kev = next(line for line in out.splitlines() if line.startswith("kev:"))
    assert kev.startswith("kev: 1 ステップ") and "網羅" not in kev  # KEV is no feed of scopes


# ----------------------------------------------------------------------------- coverage claims


def test_nvd_since_on_a_fresh_store_claims_nothing_and_the_next_plain_sync_is_full(
    server: Server, fetcher: Fetcher, tmp_path: Path
) -> None:
    options = SyncOptions(urls={"nvd": server.url("/nvd"), "jvn": server.url("/myjvn")}, page_size=50)
    with open_store(tmp_path / "kb.db") as store:
        limited = sync_source(store, "nvd", fetcher, _with(options, since=date(2021, 1, 1)))
        assert limited.complete and limited.counts.new == 5 and limited.claims == []
        assert ("nvd", "cpe") not in _complete(store)
        assert orjson.loads(store.source_state("nvd")["cursor"]) == {"lastmod": None, "whole": False}

        full = sync_source(store, "nvd", fetcher, options)
        first = server.services.requests_to("/nvd")[-1]
        assert "lastModStartDate" not in first  # the whole of NVD, paged from the start
        assert full.counts.new == 1 and full.counts.unchanged == 5
        assert [(c.source, c.scopes) for c in full.claims] == [("nvd", ("cpe",))]
        assert _complete(store)[("nvd", "cpe")] == 6
        cursor = orjson.loads(store.source_state("nvd")["cursor"])
        assert cursor["whole"] is True

        # --since from before the last sync leaves no gap: still whole, claimed again
        again = sync_source(store, "nvd", fetcher, _with(options, since=date(2021, 1, 1)))
        assert again.claims and orjson.loads(store.source_state("nvd")["cursor"])["whole"] is True

        # JVN: the first run is full and claims; the incremental one after it too
        jvn = sync_source(store, "jvn", fetcher, options)
        assert [(c.source, c.scopes) for c in jvn.claims] == [("jvn", ("cpe",))]
        later = sync_source(store, "jvn", fetcher, options)
        assert later.claims and later.counts.unchanged == 1
        assert _complete(store)[("jvn", "cpe")] == 1


def _with(options: SyncOptions, **changes: object) -> SyncOptions:
    from dataclasses import replace

    return replace(options, **changes)


def test_an_interrupted_nvd_run_claims_only_once_resumed(
    server: Server, fetcher: Fetcher, tmp_path: Path
) -> None:
    options = SyncOptions(urls={"nvd": server.url("/nvd")}, page_size=2)
    server.services.faults["/nvd"] = ["ok", "ok"] + ["503"] * 6
    with open_store(tmp_path / "kb.db") as store:
        broken = sync_source(store, "nvd", fetcher, options)
        assert broken.error is not None and broken.counts.new == 4 and broken.claims == []
        assert ("nvd", "cpe") not in _complete(store)  # two pages of three are in: not all of NVD
        resumed = sync_source(store, "nvd", fetcher, options)
        assert resumed.complete and resumed.counts.new == 2
        assert _complete(store)[("nvd", "cpe")] == 6


def test_ctrl_c_inside_an_osv_export_claims_nothing_and_a_rerun_ends_with_the_same_store(
    server: Server, fetcher: Fetcher, tmp_path: Path
) -> None:
    options = SyncOptions(urls={"osv": server.url("/osv")}, ecosystems=["PyPI", "Go"], batch=5)
    pypi = len(server.services.exported["PyPI"])
    with open_store(tmp_path / "whole.db") as store:
        whole = sync_source(store, "osv", fetcher, options)
        assert whole.complete and whole.counts.new == pypi + len(server.services.exported["Go"])

    def ctrl_c_after_20(p: Progress) -> None:
        if p.files_done == 20:
            raise KeyboardInterrupt

    with open_store(tmp_path / "kb.db") as store:
        with pytest.raises(KeyboardInterrupt):
            sync_source(store, "osv", fetcher, options, progress=ctrl_c_after_20)
        assert ("osv", "PyPI") not in _complete(store) and ("osv", "Go") not in _complete(store)
        kept = store.status()["sources"]["osv"]["records"]
        assert 0 < kept < pypi  # the committed batches stay
        rerun = sync_source(store, "osv", fetcher, options)
        assert rerun.complete and 0 < rerun.resumed <= kept  # on from the last commit
        assert rerun.counts.new == whole.counts.new  # reported for the whole feed, as one run
        assert {("osv", "PyPI"), ("osv", "Go")} <= set(_complete(store))
    assert kb_rows(str(tmp_path / "kb.db")) == kb_rows(str(tmp_path / "whole.db"))


def _checkpoint(db: Path) -> tuple[str, dict] | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute("SELECT origin, cursor FROM source_state WHERE source LIKE '~%'").fetchone()
    except sqlite3.OperationalError:  # not created yet, or busy
        return None
    return (row[0], orjson.loads(row[1])) if row else None


def test_a_sync_killed_midway_resumes_to_the_same_store_as_an_uninterrupted_one(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    services = _services(shared_data, shared_data / "osv" / "pypi", rows=3000)  # every PyPI advisory
    with Server(services) as server:
        env = service_env(server)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reference = str(tmp_path / "whole.db")
        assert main(["db", "sync", "--db", reference, "--format", "json"]) == 0
        capsys.readouterr()

        db = tmp_path / "kb.db"
        command = [sys.executable, "-c", "from mamori.cli.main import run; run()", "db", "sync"]
        command += ["--db", str(db), "--batch", "25", "--format", "json"]
        child = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, **env},
        )
        seen = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            seen = _checkpoint(db)
            if seen and "/osv/PyPI/" in seen[0] and seen[1]["position"] >= 3:
                os.killpg(child.pid, signal.SIGKILL)  # the process group this test started
                break
            time.sleep(0.005)
        child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, "the sync ended before it could be killed"

        with open_store(db) as store:
            complete = _complete(store)
            assert ("osv", "PyPI") not in complete  # killed inside the export: not claimed
            assert ("nvd", "cpe") in complete and ("jvn", "cpe") in complete  # finished before
            assert _checkpoint(db) is not None
        code = main(["db", "sync", "--db", str(db), "--lang", "en"])
        osv = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("osv:"))
        assert code == 0 and "files were already imported by an interrupted run" in osv, osv
    assert _checkpoint(db) is None
    assert kb_rows(str(db)) == kb_rows(reference)
    with open_store(db) as store:
        assert ("osv", "PyPI") in _complete(store)


# ------------------------------------------------------------------------ OSV list, purl2cpe archive


def test_ecosystems_txt_gives_base_names_once_and_refuses_what_is_not_a_list() -> None:
    assert parse_ecosystems("e.txt", b"AlmaLinux\nDebian\nDebian:12\n\nRed Hat\nPyPI\n") == [
        "AlmaLinux",
        "Debian",
        "Red Hat",
        "PyPI",
    ]
    for bad, problem in (
        (b"", "lists no ecosystem"),
        (b"PyPI\n../../etc\n", "line 2: not an ecosystem name"),
        (b"PyPI\nna\x1bme\n", "line 2: not an ecosystem name"),
        (b"\xff\xfe", "not UTF-8"),
        (b"x" * 65 + b"\n", "line 1"),
    ):
        with pytest.raises(InputError, match=problem):
            parse_ecosystems("e.txt", bad)


def test_a_missing_export_is_reported_and_the_others_still_sync(
    server: Server, fetcher: Fetcher, tmp_path: Path
) -> None:
    server.services.ecosystems_txt += b"Hex\n"  # listed, but its all.zip is not there
    options = SyncOptions(urls={"osv": server.url("/osv")})
    with open_store(tmp_path / "kb.db") as store:
        result = sync_source(store, "osv", fetcher, options)
        complete = _complete(store)
    assert not result.complete and result.error is None
    assert [(f.name.rsplit("/osv/", 1)[1], f.reason) for f in result.failed] == [("Hex/all.zip", "HTTP 404")]
    assert ("osv", "Hex") not in complete and ("osv", "PyPI") in complete


def test_purl2cpe_archive_members_and_an_archive_without_data(
    server: Server, fetcher: Fetcher, tmp_path: Path
) -> None:
    assert is_purls_member("purl2cpe-main/data/01org/tpm2.0-tools/purls.yml")
    assert is_purls_member("data/01org/tpm2.0-tools/purls.yml")
    for name in (
        "purl2cpe-main/data/01org/tpm2.0-tools/cpes.yml",
        "purl2cpe-main/.github/workflows/purls.yml",
        "purl2cpe-main/data/../../x/y/purls.yml",
        "/data/a/b/purls.yml",
        "purl2cpe-main/data/a/purls.yml",
    ):
        assert not is_purls_member(name), name
    options = SyncOptions(urls={"purl2cpe": server.url("/purl2cpe.zip")})
    with open_store(tmp_path / "kb.db") as store:
        first = sync_source(store, "purl2cpe", fetcher, options)
        assert first.complete and first.counts.read == 1000 and not first.failed
        again = sync_source(store, "purl2cpe", fetcher, options)
        assert again.steps == 0 and again.not_modified == 1
        server.services.purl2cpe_zip = server.services.exports["Go"]  # a zip, but not purl2cpe
        forced = sync_source(store, "purl2cpe", fetcher, _with(options, force=True))
    assert forced.error is not None and "holds no data/<vendor>/<product>/purls.yml" in forced.error
