"""``mamori db snapshot export|import``: a store holding real data (OSV, NVD, CVE 5, JVN, KEV, EPSS,
purl2cpe, with coverage) goes through one file into a fresh store, SQLite and PostgreSQL either way,
and comes out identical: same tables (data dates and coverage times included), same ``db status``,
same scan result; the user's own tables stay as they were. A snapshot that is altered, cut short,
made for another schema, holds a path out of the archive, is too large or is not a regular file is
refused with one line and exit 2, and the store is left as it was."""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import create_engine, func, select

from conftest import SHARED_DATA
from kb_support import PG_URL, fresh_store_url, kb_rows
from mamori.cli.main import main
from mamori.portfolio import tables as portfolio
from mamori.store import open_store, resolve_url, schema
from mamori.store.snapshot import MANIFEST, export_snapshot, file_sha256, import_snapshot, sidecar_path
from mamori.store.throwaway import throwaway_postgres
from mamori.vulndb import Blob, import_blobs, import_path
from mamori.vulndb.coverage import CPE_SCOPE, CoverageClaim
from vulndb_server import EPSS_SAMPLE

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")

# what a project's SBOM would name: pillow (OSV, PyPI) and Apache Struts (NVD, by CPE)
SBOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "version": 1,
    "metadata": {"component": {"type": "application", "name": "shop-portal", "version": "2.1.0"}},
    "components": [
        {
            "type": "library",
            "bom-ref": "pillow",
            "name": "pillow",
            "version": "9.0.0",
            "purl": "pkg:pypi/pillow@9.0.0",
        },
        {
            "type": "framework",
            "bom-ref": "struts",
            "group": "org.apache.struts",
            "name": "struts2-core",
            "version": "2.3.5",
            "cpe": "cpe:2.3:a:apache:struts:2.3.5:*:*:*:*:*:*:*",
        },
    ],
}


def fill(url: str) -> None:
    """Real data of every kind, with coverage claims, and one row of the user's own tables."""
    data = SHARED_DATA
    with open_store(url) as store:
        import_path(store, data / "osv" / "pypi" / "pillow", complete=[CoverageClaim("osv", ("PyPI",))])
        import_path(store, data / "osv" / "misc")
        import_path(store, data / "nvd", complete=[CoverageClaim("nvd", (CPE_SCOPE,))])
        import_path(store, data / "cve5" / "2019" / "10xxx")
        import_path(store, data / "jvn")
        import_path(store, data / "kev" / "known_exploited_vulnerabilities.json")
        import_blobs(store, [Blob("epss_scores.csv", EPSS_SAMPLE)], origin="epss_scores.csv")
        tsv = (data / "purl2cpe" / "purl2cpe.tsv").read_bytes().splitlines(keepends=True)[:1500]
        import_blobs(store, [Blob("purl2cpe.tsv", b"".join(tsv))], origin="purl2cpe.tsv")
    assert main(["product", "add", "source-only-product", "--db", url]) == 0


def products(url: str) -> list[str]:
    engine = create_engine(resolve_url(url))
    try:
        with engine.connect() as conn:
            return sorted(conn.scalars(select(portfolio.ProductRow.__table__.c.name)))
    finally:
        engine.dispose()


def status(url: str) -> dict[str, Any]:
    with open_store(url) as store:
        result = store.status()
    return {k: v for k, v in result.items() if k not in ("database", "size_bytes", "backend")}


def scan(url: str, sbom: Path, capsys: pytest.CaptureFixture[str]) -> list[Any]:
    code = main(["scan", str(sbom), "--db", url, "--format", "json"])
    out = orjson.loads(capsys.readouterr().out)
    assert code == 0
    return out["findings"]


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = str(tmp_path_factory.mktemp("source") / "source.db")
    fill(url)
    return url


@pytest.fixture(scope="module")
def snapshot(sqlite_source: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snap") / "mamori-kb.zip"
    with open_store(sqlite_source) as store:
        export_snapshot(store, path)
    return path


@pytest.fixture
def sbom(tmp_path: Path) -> Path:
    path = tmp_path / "sbom.cdx.json"
    path.write_bytes(orjson.dumps(SBOM))
    return path


# --------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    ("source_kind", "target_kind"),
    [
        ("sqlite", "sqlite"),
        pytest.param("sqlite", "postgresql", marks=pytest.mark.skipif(not PG_URL, reason="no PostgreSQL")),
        pytest.param("postgresql", "sqlite", marks=pytest.mark.skipif(not PG_URL, reason="no PostgreSQL")),
    ],
)
def test_round_trip_gives_the_same_tables_status_and_scan(
    source_kind: str,
    target_kind: str,
    sqlite_source: str,
    tmp_path: Path,
    sbom: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with throwaway_postgres(PG_URL) if PG_URL else contextlib.nullcontext() as pg:
        source = sqlite_source if source_kind == "sqlite" else fresh_store_url("postgresql", tmp_path, pg)
        if source_kind == "postgresql":
            fill(source)
            capsys.readouterr()
        file = tmp_path / "kb.zip"
        code = main(["db", "snapshot", "export", str(file), "--db", source, "--format", "json"])
        written = orjson.loads(capsys.readouterr().out)
        assert code == 0 and written["sha256"] == file_sha256(file.open("rb"))
        assert sidecar_path(file).read_text() == f"{written['sha256']}  kb.zip\n"
        manifest = orjson.loads(zipfile.ZipFile(file).read(MANIFEST))
        assert (
            manifest["schema_revision"] == written["schema_revision"] and manifest["backend"] == source_kind
        )
        stored = status(source)["sources"]
        assert {k: v["records"] for k, v in manifest["sources"].items()} == {
            k: v["records"] for k, v in stored.items()
        }
        assert set(stored) == {"osv", "nvd", "cve5", "jvn", "kev", "epss", "purl2cpe"}
        assert manifest["sources"]["kev"]["newest"] == "2025-08-25"  # the catalog's newest dateAdded
        assert manifest["sources"]["nvd"]["newest"] and manifest["sources"]["osv"]["updated_at"]
        complete = {(c["source"], c["scope"]) for c in manifest["coverage"] if c["complete"]}
        assert complete == {("osv", "PyPI"), ("nvd", "cpe")}

        target = (
            str(tmp_path / "target.db")
            if target_kind == "sqlite"
            else fresh_store_url(target_kind, tmp_path, pg)
        )
        assert main(["product", "add", "target-product", "--db", target]) == 0
        capsys.readouterr()
        code = main(["db", "snapshot", "import", str(file), "--db", target, "--format", "json"])
        read = orjson.loads(capsys.readouterr().out)
        assert code == 0 and read["verified"] == "sidecar" and read["rows"] == written["rows"]

        # the same knowledge base, down to when each source was fetched and each feed claimed
        assert kb_rows(target, moments=True) == kb_rows(source, moments=True)
        assert status(target) == status(source)
        assert scan(target, sbom, capsys) == scan(source, sbom, capsys) != []
        assert products(target) == ["target-product"]  # the user's own tables: untouched, not carried

        # the store goes on as usual: new index rows get ids after the snapshot's (PostgreSQL sequences)
        with open_store(target) as store:
            more = import_path(store, SHARED_DATA / "cve5" / "2019" / "0xxx")
            assert more.complete and more.sources["cve5"].new > 0


def test_import_replaces_the_whole_knowledge_base_and_gives_new_ids_above_the_old(
    snapshot: Path, sqlite_source: str, tmp_path: Path
) -> None:
    target = str(tmp_path / "target.db")
    with open_store(target) as store:
        import_path(store, SHARED_DATA / "cve5" / "2019" / "0xxx")  # data the snapshot does not hold
        import_blobs(
            store,
            [Blob("p.tsv", b"cpe_vendor\tcpe_product\tpurl\nacme\tanvil\tpkg:pypi/anvil\n")],
            origin="p",
        )
        with store.engine.connect() as conn:
            before = conn.scalar(select(func.max(schema.PurlCpe.__table__.c.id)))
        info = import_snapshot(store, snapshot)
        with store.engine.connect() as conn:
            low = conn.scalar(select(func.min(schema.PurlCpe.__table__.c.id)))
        assert info.previous["source_record"] > 0 and info.previous["purl_cpe"] == 1
    assert kb_rows(target, moments=True) == kb_rows(sqlite_source, moments=True)
    assert low > before  # a link that came with the snapshot counts as added since any earlier run


# ------------------------------------------------------------------------------------ refusals


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def _rewrite(path: Path, members: dict[str, bytes], *, consistent: bool, sidecar: bool) -> None:
    """The archive with these members; ``consistent``: the manifest's hashes, sizes and rows made to
    agree with the tables (what a careful forger does); ``sidecar``: FILE.sha256 made to agree too."""
    manifest = orjson.loads(members[MANIFEST])
    if consistent:
        import hashlib

        for entry in manifest["tables"]:
            data = members.get(entry["member"], b"")
            entry.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), rows=data.count(b"\n"))
        joined = "".join(t["sha256"] for t in manifest["tables"])
        manifest["payload_sha256"] = hashlib.sha256(joined.encode()).hexdigest()
        members = {**members, MANIFEST: orjson.dumps(manifest)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    if sidecar:
        sidecar_path(path).write_text(f"{file_sha256(path.open('rb'))}  {path.name}\n")


def _first_row_changed(members: dict[str, bytes]) -> dict[str, bytes]:
    kev = members["tables/kev.jsonl"].split(b"\n")
    row = orjson.loads(kev[0])
    row[1] = "2000-01-01"  # date_added of the first KEV entry, forged
    return {**members, "tables/kev.jsonl": b"\n".join([orjson.dumps(row), *kev[1:]])}


def _manifest_edit(
    change: Callable[[dict[str, Any]], None],
) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        manifest = orjson.loads(members[MANIFEST])
        change(manifest)
        return {**members, MANIFEST: orjson.dumps(manifest)}

    return edit


def _bad_type(members: dict[str, bytes]) -> dict[str, bytes]:
    lines = members["tables/epss.jsonl"].split(b"\n")
    row = orjson.loads(lines[0])
    row[1] = "0.94"  # a score as text
    return {**members, "tables/epss.jsonl": b"\n".join([orjson.dumps(row), *lines[1:]])}


REFUSALS: dict[str, tuple[Callable[[dict[str, bytes]], dict[str, bytes]], bool, bool, str]] = {
    # name: (change to the members, manifest made consistent, sidecar made consistent, problem)
    "altered, sidecar says so": (_first_row_changed, False, False, "but mamori-kb.zip.sha256 says"),
    "altered, member hash": (_first_row_changed, False, None, "tables/kev.jsonl: SHA-256 does not match"),
    "other schema": (
        _manifest_edit(lambda m: m.update(schema_revision="0099_future")),
        True,
        True,
        "made for schema revision '0099_future'",
    ),
    "path traversal": (lambda m: {**m, "../../evil.jsonl": b"x\n"}, True, True, "points outside the archive"),
    "unexpected member": (lambda m: {**m, "tables/extra.jsonl": b""}, True, True, "unexpected member"),
    "member missing": (
        lambda m: {k: v for k, v in m.items() if k != "tables/alias.jsonl"},
        False,
        True,
        "'tables/alias.jsonl' the manifest lists is missing",
    ),
    "manifest not a manifest": (
        lambda m: {**m, MANIFEST: b'{"format": "x"}'},
        False,
        True,
        "not a mamori snapshot manifest",
    ),
    "row of the wrong type": (
        _bad_type,
        True,
        True,
        "tables/epss.jsonl row 1: score: expected a number, got str",
    ),
    "column renamed": (
        _manifest_edit(lambda m: m["tables"][6]["columns"].__setitem__(1, "probability")),
        True,
        True,
        "table epss has columns cve_id, probability",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_snapshot_is_one_line_exit_2_and_changes_nothing(
    case: str, snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change, consistent, sidecar, problem = REFUSALS[case]
    target = str(tmp_path / "target.db")
    with open_store(target) as store:
        import_path(store, SHARED_DATA / "nvd")
    before = kb_rows(target, moments=True)
    file = tmp_path / "mamori-kb.zip"
    file.write_bytes(snapshot.read_bytes())
    sidecar_path(file).write_bytes(sidecar_path(snapshot).read_bytes())
    _rewrite(file, change(_members(snapshot)), consistent=consistent, sidecar=bool(sidecar))
    if sidecar is None:
        sidecar_path(file).unlink()
    code = main(["db", "snapshot", "import", str(file), "--db", target])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"mamori: error: {file}: "), err
    assert problem in err
    assert kb_rows(target, moments=True) == before


@pytest.mark.parametrize("case", ["row of the wrong type", "other schema"])
@pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")
def test_a_refused_snapshot_leaves_a_postgresql_store_as_it_was(
    case: str, snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change, consistent, sidecar, problem = REFUSALS[case]
    file = tmp_path / "mamori-kb.zip"
    _rewrite(file, change(_members(snapshot)), consistent=consistent, sidecar=bool(sidecar))
    with throwaway_postgres(PG_URL) as target:
        with open_store(target) as store:
            import_path(store, SHARED_DATA / "nvd")
        before = kb_rows(target, moments=True)
        code = main(["db", "snapshot", "import", str(file), "--db", target])
        err = capsys.readouterr().err
        assert code == 2 and problem in err and err.count("\n") == 1
        assert kb_rows(target, moments=True) == before  # the bad row rolled the deletes back too


def test_cut_short_oversize_not_a_file_and_a_wrong_sha256_are_refused(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = str(tmp_path / "target.db")
    data = snapshot.read_bytes()

    def refused(path: Path, *more: str) -> str:
        code = main(["db", "snapshot", "import", str(path), "--db", target, *more])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        return err

    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    assert "not a whole zip file" in refused(cut)
    sidecar_path(cut).write_bytes(sidecar_path(snapshot).read_bytes())
    assert "but cut.zip.sha256 says" in refused(cut)
    copy = tmp_path / "copy.zip"
    copy.write_bytes(data)
    assert "but --sha256 says" in refused(copy, "--sha256", "0" * 64)
    assert "--sha256: expected 64 hexadecimal digits" in refused(copy, "--sha256", "abc")
    assert "over the limit of 1000" in refused(copy, "--max-size", "1000")
    monkeypatch.setenv("MAMORI_SNAPSHOT_MAX_BYTES", str(len(data) + 10))  # the file fits, its tables do not
    assert "decompresses to" in refused(copy)
    monkeypatch.delenv("MAMORI_SNAPSHOT_MAX_BYTES")
    assert "not a regular file" in refused(tmp_path)
    fifo = tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    assert "not a regular file" in refused(fifo)
    assert "file not found" in refused(tmp_path / "nowhere.zip")
    link = tmp_path / "link.zip"
    link.symlink_to(tmp_path)
    assert "not a regular file" in refused(link)  # a link is followed, to what it points to
    with open_store(target) as store:
        assert store.status()["vulnerabilities"] == 0


def test_text_output_in_english_and_japanese(snapshot: Path, tmp_path: Path, capsys) -> None:
    target = str(tmp_path / "t.db")
    assert main(["db", "snapshot", "import", str(snapshot), "--db", target, "--lang", "en"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"snapshot {snapshot} (made ") and " rows into sqlite" in out[0]
    assert out[1] == "  checked against mamori-kb.zip.sha256"
    assert any(line.startswith("  kev: 1404 records, fetched 20") for line in out)
    assert out[-1] == "  complete feeds: nvd cpe; osv PyPI"
    sidecar = sidecar_path(snapshot)
    kept = sidecar.read_bytes()
    sidecar.unlink()
    try:
        assert main(["db", "snapshot", "import", str(snapshot), "--db", target, "--lang", "ja"]) == 0
    finally:
        sidecar.write_bytes(kept)
    out = capsys.readouterr().out.splitlines()
    assert "行を" in out[0] and "取り込みました" in out[0]
    assert out[1] == "  mamori-kb.zip.sha256 がないため、各メンバーをマニフェストとのみ照合しました"
    assert out[-1] == "  網羅済みのフィード: nvd cpe; osv PyPI"
    file = tmp_path / "again.zip"
    assert main(["db", "snapshot", "export", str(file), "--db", target, "--lang", "ja"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"スナップショット {file}: ") and "バイト" in out[0]
