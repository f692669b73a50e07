"""Importing the real data sets into one store (SQLite, and PostgreSQL when MAMORI_TEST_PG_URL is set):
counts equal the files' record counts, every alias resolves, sources merge, KEV lands on the right CVEs."""

from __future__ import annotations

import functools
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import yaml
from sqlalchemy import func, select

from conftest import SHARED_DATA
from mamori.model.names import normalise_name
from mamori.store import Store, open_store, schema
from mamori.store.throwaway import throwaway_postgres
from mamori.vulndb import Blob, ImportSummary, import_blobs, import_path

PG_URL = os.environ.get("MAMORI_TEST_PG_URL")
FULL = os.environ.get("MAMORI_TEST_FULL") == "1"
PURL2CPE_LINES = 6000  # the TSV's first lines (header included); test_vulndb_parse reads it whole
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MAMORI_TEST_PG_URL not set")),
]


@functools.cache
def _pypi_advisories() -> list[dict]:
    return [
        yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)
        for p in sorted((SHARED_DATA / "osv" / "pypi").rglob("*.yaml"))
    ]


def _cve5_sample() -> list[Path]:
    """CVE 5 records named by a PyPI advisory or the KEV catalog, plus every 2020 record (all with MAMORI_TEST_FULL=1)."""
    files = sorted((SHARED_DATA / "cve5").rglob("CVE-*.json"))
    if FULL:
        return files
    named = {a for doc in _pypi_advisories() for a in doc.get("aliases") or []}
    catalog = orjson.loads((SHARED_DATA / "kev" / "known_exploited_vulnerabilities.json").read_bytes())
    named.update(v["cveID"] for v in catalog["vulnerabilities"])
    return [p for p in files if p.stem in named or p.parent.parent.name == "2020"]


@dataclass
class Loaded:
    store: Store
    summaries: dict[str, ImportSummary]
    cve5_files: list[Path]


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    cve5_files = _cve5_sample()

    def run(url: str) -> Iterator[Loaded]:
        with open_store(url) as store:
            summaries = {
                name: import_path(store, SHARED_DATA / name) for name in ("osv", "nvd", "jvn", "kev")
            }
            tsv = (SHARED_DATA / "purl2cpe" / "purl2cpe.tsv").read_bytes().splitlines(keepends=True)
            head = Blob("purl2cpe-head.tsv", b"".join(tsv[:PURL2CPE_LINES]))
            summaries["purl2cpe"] = import_blobs(store, [head], origin="purl2cpe head", strict=True)
            blobs = (Blob(str(p), p.read_bytes()) for p in cve5_files)
            summaries["cve5"] = import_blobs(store, blobs, origin="cve5 sample", total=len(cve5_files))
            yield Loaded(store, summaries, cve5_files)

    if request.param == "sqlite":
        yield from run(str(tmp_path_factory.mktemp("kb") / "kb.db"))
    else:
        assert PG_URL
        with throwaway_postgres(PG_URL) as url:
            yield from run(url)


def _scalar(store: Store, stmt: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(stmt) or 0)  # type: ignore[arg-type]


def test_counts_equal_the_files_record_counts(loaded: Loaded) -> None:
    osv_ids, osv_withdrawn = set(), set()
    for path in sorted(p for p in (SHARED_DATA / "osv").rglob("*.*") if p.is_file()):
        doc = yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)  # JSON is YAML too
        osv_ids.add(doc["id"])
        if doc.get("withdrawn"):
            osv_withdrawn.add(doc["id"])
    rejected = sum(1 for p in loaded.cve5_files if b'"REJECTED"' in p.read_bytes())
    nvd_ids = {orjson.loads(p.read_bytes())["cve"]["id"] for p in (SHARED_DATA / "nvd").glob("*.json")}
    tsv = (
        (SHARED_DATA / "purl2cpe" / "purl2cpe.tsv").read_text(encoding="utf-8").splitlines()[1:PURL2CPE_LINES]
    )
    status = loaded.store.status()["sources"]
    assert status["osv"]["records"] == len(osv_ids) and status["osv"]["withdrawn"] == len(osv_withdrawn) == 10
    assert status["cve5"]["records"] == len(loaded.cve5_files) and status["cve5"]["withdrawn"] == rejected
    assert status["nvd"]["records"] == len(nvd_ids) == 6
    assert status["jvn"]["records"] == 2
    assert status["kev"]["records"] == 1404
    purl2cpe = loaded.summaries["purl2cpe"].sources["purl2cpe"]
    assert purl2cpe.read + purl2cpe.warnings == len(tsv) and purl2cpe.warnings == 1  # line 5394
    assert purl2cpe.rejected == 0 and loaded.summaries["purl2cpe"].complete  # a warning fails nothing
    assert status["purl2cpe"]["records"] == purl2cpe.new  # duplicate rows collapse into one link
    links = loaded.summaries["purl2cpe"].links
    assert links.strong + links.weak == purl2cpe.read
    assert status["purl2cpe"]["strong"] + status["purl2cpe"]["weak"] == purl2cpe.new
    assert loaded.summaries["jvn"].skipped and loaded.summaries["kev"].skipped  # product lists, KEV schema


def test_every_alias_resolves(loaded: Loaded) -> None:
    alias, vuln = schema.Alias.__table__, schema.Vulnerability.__table__
    orphans = (
        select(func.count())
        .select_from(alias.outerjoin(vuln, alias.c.vuln_id == vuln.c.id))
        .where(vuln.c.id.is_(None))
    )
    assert _scalar(loaded.store, orphans) == 0
    with loaded.store.engine.connect() as conn:
        rows = conn.execute(select(alias.c.alias, alias.c.vuln_id)).all()
    identifiers = {r.alias for r in rows}
    for doc in _pypi_advisories():
        assert {doc["id"], *(doc.get("aliases") or [])} <= identifiers, doc["id"]
    for row in random.Random(4).sample(rows, 300):
        found = loaded.store.lookup(row.alias)
        assert found is not None and row.alias in found.vulnerability.all_ids()
        assert row.vuln_id in (found.vulnerability.id, *found.also)


def test_pysec_and_cve5_records_merge_under_both_ids(loaded: Loaded) -> None:
    cve5_ids = {p.stem for p in loaded.cve5_files}
    pairs = []
    for doc in _pypi_advisories():
        pairs += [(doc["id"], a) for a in doc.get("aliases") or [] if a in cve5_ids]
    assert len(pairs) >= 20
    for pysec, cve in pairs:
        for identifier in (pysec, cve):
            found = loaded.store.lookup(identifier)
            assert found is not None
            v = found.vulnerability
            assert v.id == cve
            refs = {(s.source, s.id) for s in v.sources}
            assert {("osv", pysec), ("cve5", cve)} <= refs
            assert any(p.source == "osv" for p in v.affected_packages)
            assert any(s.provider == "CISA-ADP" for s in v.ssvc)


def test_kev_flags_land_on_the_right_cves(loaded: Loaded) -> None:
    catalog = {
        v["cveID"]: v
        for v in orjson.loads((SHARED_DATA / "kev" / "known_exploited_vulnerabilities.json").read_bytes())[
            "vulnerabilities"
        ]
    }
    flagged = unflagged = 0
    unlisted = [p for p in loaded.cve5_files if p.stem not in catalog]
    for path in [p for p in loaded.cve5_files if p.stem in catalog] + random.Random(7).sample(unlisted, 150):
        found = loaded.store.lookup(path.stem)
        assert found is not None
        entries = [k for k in found.vulnerability.kev if k.source == "kev"]
        if path.stem in catalog:
            (entry,) = entries
            want = catalog[path.stem]
            assert (entry.cve_id, entry.date_added, entry.due_date, entry.known_ransomware_use) == (
                path.stem,
                want["dateAdded"],
                want["dueDate"],
                want["knownRansomwareCampaignUse"],
            )
            flagged += 1
        else:
            assert entries == []
            unflagged += 1
    assert flagged >= 80 and unflagged == 150
    # CISA ADP's own KEV fact stays beside the catalog's, even where the two dates differ
    found = loaded.store.lookup("CVE-2019-1069")
    assert found is not None
    assert [(k.source, k.date_added) for k in found.vulnerability.kev] == [
        ("kev", "2022-03-15"),
        ("cve5", "2024-09-18"),
    ]


def test_jvn_records_have_japanese_titles_and_cve_aliases(loaded: Loaded) -> None:
    for jvndb, cve in (("JVNDB-2020-006469", "CVE-2020-5595"), ("JVNDB-2020-000049", "CVE-2020-5610")):
        by_jvn, by_cve = loaded.store.lookup(jvndb), loaded.store.lookup(cve)
        assert by_jvn is not None and by_cve is not None
        assert by_jvn.vulnerability == by_cve.vulnerability
        assert by_jvn.vulnerability.id == cve and jvndb in by_jvn.vulnerability.aliases
    detail = loaded.store.lookup("JVNDB-2020-006469")
    assert detail is not None and detail.vulnerability.titles["ja"].startswith("三菱電機製")
    overview = loaded.store.lookup("JVN#40400577")
    assert overview is not None and overview.vulnerability.id == "CVE-2020-5610"


def test_match_indexes(loaded: Loaded) -> None:
    pkg, cpe = schema.AffectedPackage.__table__, schema.AffectedCpe.__table__
    pillow = select(func.count()).where(
        pkg.c.ecosystem == "PyPI", pkg.c.name_key == normalise_name("PyPI", "Pillow")
    )
    assert _scalar(loaded.store, pillow) == len(
        list((SHARED_DATA / "osv" / "pypi" / "pillow").glob("*.yaml"))
    )
    fortios = select(func.count()).where(
        cpe.c.vendor == "fortinet", cpe.c.product == "fortios", cpe.c.origin == "configuration"
    )
    assert _scalar(loaded.store, fortios) >= 3
    platform = select(func.count()).where(cpe.c.status == "platform", cpe.c.vulnerable.is_(False))
    assert _scalar(loaded.store, platform) >= 1  # NVD's non-vulnerable AND platforms are kept, flagged
    jvn_cpe = select(cpe.c.vuln_id).where(cpe.c.vendor == "mitsubishielectric", cpe.c.product == "gt25_model")
    with loaded.store.engine.connect() as conn:
        assert conn.scalars(jvn_cpe).all() == ["CVE-2020-5595"]
    debian = select(pkg.c.ecosystem_variant).where(
        pkg.c.ecosystem == "Debian", pkg.c.name == "intel-microcode"
    )
    with loaded.store.engine.connect() as conn:
        assert sorted(conn.scalars(debian)) == ["11", "12"]


def test_reimport_changes_nothing(loaded: Loaded) -> None:
    before = loaded.store.status()
    again = import_path(loaded.store, SHARED_DATA / "osv" / "pypi")
    assert again.sources["osv"].unchanged == again.sources["osv"].read and again.sources["osv"].new == 0
    after = loaded.store.status()
    assert {k: v["records"] for k, v in after["sources"].items()} == {
        k: v["records"] for k, v in before["sources"].items()
    }
    assert after["vulnerabilities"] == before["vulnerabilities"] and after["aliases"] == before["aliases"]
