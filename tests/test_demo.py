"""The main job: `mamori demo` on bundled data, no network."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from mamori import sbom
from mamori.cli.main import main
from mamori.demo import demo_data
from mamori.store import open_store


def test_demo_sbom_is_bundled_and_passes_ntia() -> None:
    doc = sbom.read(demo_data() / "shop-portal-2.1.0.cdx.json")
    names = {c.name for c in doc.all_components()}
    assert {"log4j-core", "lodash", "requests", "text"} <= names
    assert doc.root is not None and doc.root.name == "shop-portal"


def test_demo_osv_set_is_labelled_and_parses() -> None:
    files = sorted((demo_data() / "osv").glob("*.json"))
    assert len(files) == 13
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["database_specific"]["mamori_demo_set"] is True
        assert record["id"].startswith("CVE-") and record["affected"]


def test_demo_runs_offline_and_writes_outputs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    db = tmp_path / "demo.db"
    assert main(["demo", "--out", str(out), "--db", str(db)]) == 0
    printed = capsys.readouterr().out
    assert "osv 13" in printed and "kev 2" in printed and "NTIA pass" in printed
    spdx = sbom.read(out / "shop-portal-2.1.0.spdx.json")
    assert sum(1 for _ in spdx.all_components()) == 14
    lite = sbom.read(out / "shop-portal-2.1.0-spdx-lite.xlsx")
    assert {c.name for c in lite.all_components()} >= {"log4j-core", "Django"}
    # a second run finds the demo set already loaded and imports nothing
    assert main(["demo", "--out", str(out), "--db", str(db)]) == 0
    assert "already loaded" in capsys.readouterr().out


EXPECTED_DEMO_FINDINGS = {
    ("log4j-core", "2.14.1", "CVE-2021-44228"),
    ("log4j-core", "2.14.1", "CVE-2021-45046"),
    ("lodash", "4.17.15", "CVE-2020-8203"),
    ("lodash", "4.17.15", "CVE-2021-23337"),
    ("text", "0.3.7", "CVE-2022-32149"),  # purl version v0.3.7
    ("spring-beans", "5.3.15", "CVE-2022-22965"),
    ("jackson-databind", "2.12.3", "CVE-2020-36518"),
    ("commons-text", "1.9", "CVE-2022-42889"),
    ("minimist", "1.2.5", "CVE-2021-44906"),
    ("requests", "2.19.1", "CVE-2018-18074"),
    ("urllib3", "1.24.1", "CVE-2019-11324"),
    ("PyYAML", "3.13", "CVE-2017-18342"),
    ("Django", "3.2.12", "CVE-2022-34265"),
}


def test_demo_scans_and_writes_the_html_report(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--db", str(tmp_path / "demo.db"), "--lang", "ja"]) == 0
    printed = capsys.readouterr().out
    report = out / "shop-portal-2.1.0.scan.html"
    assert f"HTMLレポート: {report.resolve()}" in printed.splitlines()
    assert "緊急 8, 重要 5, KEV 2" in printed
    scan = json.loads((out / "shop-portal-2.1.0.scan.json").read_text(encoding="utf-8"))
    found = {
        (f["component"]["name"], f["component"]["version"], f["vulnerability"]["id"])
        for f in scan["findings"]
    }
    assert found == EXPECTED_DEMO_FINDINGS
    kev = {f["vulnerability"]["id"] for f in scan["findings"] if f["vulnerability"]["kev"]}
    assert kev == {"CVE-2021-44228", "CVE-2022-22965"}
    fixes = {f["vulnerability"]["id"]: f["vulnerability"]["fixed_versions"][0] for f in scan["findings"]}
    assert fixes["CVE-2021-44228"] == "2.15.0" and fixes["CVE-2022-32149"] == "0.3.8"
    assert all(f["match"]["method"] == "purl-range" for f in scan["findings"])
    assert scan["database"]["sources"]["osv"]["records"] == 13
    # the HTML report: Japanese first, labelled as demo data in both languages, one group per finding
    html = report.read_text(encoding="utf-8")
    assert '<html lang="ja"' in html and 'id="demo-banner"' in html
    assert "mamori に同梱のデモ用セット" in html and "bundled demonstration set (13 records" in html
    assert html.count('<tbody id="f') == 13 and html.count('data-kev="1"') == 2


def test_outputs_get_ordinary_file_permissions(tmp_path: Path) -> None:
    import os

    from mamori.fileio import write_bytes_atomic

    target = tmp_path / "x.json"
    write_bytes_atomic(target, b"{}")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_demo_refuses_a_database_holding_other_data(tmp_path: Path, capsys) -> None:
    """A real store given as --db: refused in one line naming it, and nothing demo-made written into it."""
    db = tmp_path / "real.db"
    advisory = {
        "id": "GHSA-aaaa-bbbb-cccc",
        "modified": "2024-01-01T00:00:00Z",
        "aliases": ["CVE-2021-44228"],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "example"}, "versions": ["1.0"]}],
    }
    (tmp_path / "GHSA-aaaa-bbbb-cccc.json").write_bytes(orjson.dumps(advisory))
    assert main(["db", "import", str(tmp_path / "GHSA-aaaa-bbbb-cccc.json"), "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["demo", "--out", str(tmp_path / "out"), "--db", str(db)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        f"mamori: error: sqlite+pysqlite:///{db}: holds other vulnerability data (osv 1); "
        "the demo needs a database of its own (leave out --db, or give a new file)"
    )
    with open_store(str(db)) as store:
        status = store.status()
    assert status["sources"]["osv"]["records"] == 1 and "kev" not in status["sources"]
    assert not (tmp_path / "out").exists()


def test_demo_database_grown_past_the_demo_set_is_refused(tmp_path: Path, capsys) -> None:
    """A demo database that a real import later went into is no longer the demo's."""
    db = tmp_path / "demo.db"
    assert main(["demo", "--out", str(tmp_path / "out"), "--db", str(db)]) == 0
    kev = {
        "catalogVersion": "1",
        "dateReleased": "2024-01-01T00:00:00Z",
        "count": 1,
        "vulnerabilities": [
            {
                "cveID": "CVE-2024-0001",
                "vendorProject": "x",
                "product": "y",
                "vulnerabilityName": "z",
                "dateAdded": "2024-01-02",
                "shortDescription": "d",
                "requiredAction": "a",
                "dueDate": "2024-01-23",
                "knownRansomwareCampaignUse": "Unknown",
                "notes": "",
            }
        ],
    }
    (tmp_path / "kev.json").write_bytes(orjson.dumps(kev))
    assert main(["db", "import", str(tmp_path / "kev.json"), "--source", "kev", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["demo", "--out", str(tmp_path / "out"), "--db", str(db)]) == 2
    assert "holds other vulnerability data (kev 3)" in capsys.readouterr().err


def test_demo_set_covers_its_ecosystems_and_is_never_stale(tmp_path: Path, capsys) -> None:
    from sqlalchemy import update

    from mamori.store import schema
    from mamori.vulndb import import_path

    db = tmp_path / "demo.db"
    with open_store(str(db)) as store:  # a demo database loaded before coverage was kept: loose records
        import_path(store, demo_data() / "osv", source="osv")
        import_path(store, demo_data() / "kev", source="kev")
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--db", str(db)]) == 0
    printed = capsys.readouterr().out
    line = "Coverage: Go ✓ (demo set) · Maven ✓ (demo set) · npm ✓ (demo set) · PyPI ✓ (demo set)"
    assert f"{line} — all 14 components evaluated" in printed
    with open_store(str(db)) as store, store.engine.begin() as conn:  # a year later
        table = schema.Coverage.__table__
        conn.execute(update(table).values(complete_at="2020-01-01T00:00:00Z"))
    assert main(["demo", "--out", str(out), "--db", str(db)]) == 0
    coverage = json.loads((out / "shop-portal-2.1.0.scan.json").read_text(encoding="utf-8"))["coverage"]
    assert coverage["demo"] and coverage["complete"] and coverage["problems"] == []
    assert coverage["max_age_days"] is None and not any(s["stale"] for s in coverage["scopes"])
    assert {s["scope"] for s in coverage["scopes"] if s["complete"]} == {"Go", "Maven", "npm", "PyPI"}
    html = (out / "shop-portal-2.1.0.scan.html").read_text(encoding="utf-8")
    assert "PyPI ✓ (demo set)" in html and "PyPI ✓ (デモ用セット)" in html
