"""No silent pass: a scan never says "no known vulnerability" for what the knowledge base could not check.

The juice-shop scenario of the issue, through the installed ``mamori`` (subprocess): a store holding
the whole PyPI advisory set of ../shared/data (imported with ``--complete``) plus the stray records of
osv/misc (one npm advisory among them), and juice-shop 11.1.2's CycloneDX SBOM (840 npm components).
Every npm component is "not evaluated" for want of a complete npm feed, the scan exits 3 unless
``--allow-partial``, and every report format carries the coverage. Then: an empty store, a stale
feed, ``--max-age``, an OSV ``all.zip`` (a file, and a URL on a loopback server) that makes its
ecosystem complete, ``db status``, and a component looked up by CPE only.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from lxml import html as lxml_html
from sqlalchemy import update

from conftest import SHARED_DATA
from mamori.cli.main import main
from mamori.model.sbom import Component
from mamori.sbom import write
from mamori.scan.run import scan_document
from mamori.store import open_store, schema
from mamori.vulndb import import_path
from mamori.vulndb.coverage import CoverageClaim
from match_support import document
from vulndb_server import Server, Services, osv_zip

MAMORI = str(Path(sys.executable).with_name("mamori"))
JUICE_SHOP = SHARED_DATA / "sbom" / "cyclonedx" / "juice-shop" / "v11.1.2" / "bom.json"
PYPI = SHARED_DATA / "osv" / "pypi"
MISC = SHARED_DATA / "osv" / "misc"
NPM_RECORD = MISC / "osv-vulnerability-exact-version.json"  # MAL-2023-995, npm
STRUTS = SHARED_DATA / "nvd" / "CVE-2017-5638-cvssv3-rating.json"
JUICE_COMPONENTS = 840


def mamori(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "MAMORI_LANG": lang, "HOME": "/nonexistent"}
    return subprocess.run([MAMORI, *args], capture_output=True, text=True, timeout=600, env=env, check=False)


@pytest.fixture(scope="module")
def store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """PyPI whole (``db import --complete``), osv/misc as loose records."""
    for path in (JUICE_SHOP, PYPI, MISC):
        if not path.exists():
            pytest.skip(f"{path} is absent")
    folder = tmp_path_factory.mktemp("coverage")
    db = str(folder / "kb.db")
    whole = mamori("db", "import", str(PYPI), "--complete", "--db", db)
    assert whole.returncode == 0, whole.stderr
    assert "complete feed of: osv PyPI" in whole.stdout
    loose = mamori("db", "import", str(MISC), "--db", db)
    assert loose.returncode == 0, loose.stderr
    assert "loose records only" in loose.stdout and "osv npm" in loose.stdout
    mixed = folder / "mixed.cdx.json"  # a PyPI package with a CVSS-rated advisory, and an npm package
    write(
        document(
            Component("werkzeug", "2.2.2", purl="pkg:pypi/werkzeug@2.2.2"),
            Component("left-pad", "1.3.0", purl="pkg:npm/left-pad@1.3.0"),
        ),
        mixed,
    )
    return {"db": db, "folder": str(folder), "mixed": str(mixed)}


def _npm_records(db: str) -> int:
    with open_store(db) as kb:
        return sum(c["records"] for c in kb.coverage() if c["scope"] == "npm")


def test_juice_shop_npm_components_are_not_evaluated_and_the_scan_exits_3(store, tmp_path) -> None:
    out = tmp_path / "scan.json"
    run = mamori("scan", str(JUICE_SHOP), "--db", store["db"], "--format", "json", "-o", str(out))
    assert run.returncode == 3
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("mamori:")]
    assert (
        "cannot judge" in line
        and f"{JUICE_COMPONENTS} of {JUICE_COMPONENTS} components not evaluated" in line
    )
    assert "coverage" in line and "--allow-partial" in line
    data = json.loads(out.read_text(encoding="utf-8"))  # the report is written all the same
    assert data["sbom"]["components"] == JUICE_COMPONENTS
    assert data["summary"]["components_not_evaluated"] == JUICE_COMPONENTS
    records = _npm_records(store["db"])
    assert records >= 1
    reasons = {(n["reason_code"], n["reason"]) for n in data["not_evaluated"]}
    assert reasons == {("coverage", f"no complete npm feed in the knowledge base ({records} loose records)")}
    coverage = data["coverage"]
    assert coverage["complete"] is False and coverage["empty"] is False
    assert coverage["not_evaluated_by_reason"] == {"coverage": JUICE_COMPONENTS}
    (npm,) = coverage["scopes"]
    assert npm["scope"] == "npm" and npm["complete"] is False and npm["records"] == records
    assert (npm["components"], npm["not_evaluated"], npm["source"], npm["age_days"]) == (
        JUICE_COMPONENTS,
        JUICE_COMPONENTS,
        None,
        None,
    )
    assert [p["code"] for p in coverage["problems"]] == ["not-evaluated"]


def test_allow_partial_warns_and_exits_0_or_1_on_the_gate(store, capsys) -> None:
    run = mamori("scan", str(JUICE_SHOP), "--db", store["db"], "--allow-partial", "--fail-on", "low")
    assert run.returncode == 0  # no finding: the loose npm record names none of juice-shop's packages
    assert "partial result" in run.stderr and "cannot judge" not in run.stderr
    assert "No known vulnerability found." not in run.stdout  # never for what was not checked
    assert "Nothing was evaluated" in run.stdout
    assert f"Coverage: npm ✗ partial ({_npm_records(store['db'])} records)" in run.stdout
    assert f"{JUICE_COMPONENTS} components not evaluated" in run.stdout
    # findings on a partial result: the gate's exit 1 wins, with or without --allow-partial
    mixed = ["scan", store["mixed"], "--db", store["db"], "--lang", "en"]
    for extra in ((), ("--allow-partial",)):
        assert main([*mixed, "--fail-on", "low", *extra]) == 1
        out, err = capsys.readouterr()
        assert "CVE-2023-46136" in out and "partial result: 1 of 2 components" in err
    assert main([*mixed, "--allow-partial"]) == 0
    assert main(mixed) == 3
    assert "cannot judge" in capsys.readouterr().err


def test_japanese_reasons_and_coverage_line(store, tmp_path) -> None:
    run = mamori("scan", str(JUICE_SHOP), "--db", store["db"], "--allow-partial", lang="ja")
    assert run.returncode == 0
    assert (
        "カバレッジ: npm ✗ 部分的" in run.stdout
        and f"未評価のコンポーネント {JUICE_COMPONENTS} 件" in run.stdout
    )
    assert "部分的な結果です" in run.stderr
    out = tmp_path / "ja.json"
    mamori("scan", str(JUICE_SHOP), "--db", store["db"], "--format", "json", "-o", str(out), lang="ja")
    note = json.loads(out.read_text(encoding="utf-8"))["not_evaluated"][0]
    assert note["reason_code"] == "coverage"
    assert note["reason"].startswith("ナレッジベースに npm の完全なフィードがありません")


def test_every_output_format_carries_the_coverage(store, tmp_path) -> None:
    def report(fmt: str) -> Path:
        out = tmp_path / f"scan.{fmt}"
        run = mamori("scan", str(JUICE_SHOP), "--db", store["db"], "--format", fmt, "-o", str(out))
        assert run.returncode == 3, run.stderr
        return out

    sarif = json.loads(report("sarif").read_text(encoding="utf-8"))
    (run,) = sarif["runs"]
    assert run["properties"]["coverage"]["scopes"][0]["scope"] == "npm"
    assert run["properties"]["coverage"]["components_not_evaluated"] == JUICE_COMPONENTS
    (notice,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notice["level"] == "warning" and notice["descriptor"]["id"] == "mamori/coverage/not-evaluated"

    vdr = json.loads(report("cyclonedx-vdr").read_text(encoding="utf-8"))
    props = {p["name"]: p["value"] for p in vdr["metadata"]["properties"]}
    assert props["mamori:coverage:complete"] == "false" and props["mamori:coverage:npm"] == "partial"
    assert props["mamori:coverage:npm:not-evaluated"] == str(JUICE_COMPONENTS)
    assert props["mamori:coverage:not-evaluated:coverage"] == str(JUICE_COMPONENTS)

    page = lxml_html.document_fromstring(report("html").read_bytes())
    (line,) = page.xpath("//p[@id='coverage-line']/span[@lang='en']")
    assert line.text.startswith("Coverage: npm ✗ partial") and line.getparent().get("class") == "warn"
    assert page.xpath("//div[@id='coverage-problems']//li")
    assert page.xpath("//table[contains(@class,'coverage')]/tbody/tr/th")[0].text_content() == "npm"
    assert (
        len(page.xpath("//table[@class='not-evaluated']/tbody/tr[@data-code='coverage']")) == JUICE_COMPONENTS
    )
    (nothing,) = page.xpath("//p[@id='nothing-found']/span[@lang='en']")
    assert nothing.text.startswith("Nothing was evaluated")

    rows = list(csv.reader(io.StringIO(report("csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == 1 + JUICE_COMPONENTS
    assert {(r[5], r[11]) for r in rows[1:]} == {("Not evaluated", "coverage")}

    book = openpyxl.load_workbook(report("xlsx"))
    assert book.sheetnames == ["Findings", "Not evaluated", "Coverage", "Summary"]
    assert [c.value for c in book["Coverage"][2][:2]] == ["npm", "partial"]
    summary = [row[0] for row in book["Summary"].iter_rows(values_only=True)]
    assert any(str(v).startswith("Coverage: npm ✗ partial") for v in summary)

    table = report("table").read_text(encoding="utf-8")
    assert "Coverage: npm ✗ partial" in table and "No known vulnerability found." not in table


def test_empty_store_exits_3(shared_data, tmp_path) -> None:
    run = mamori("scan", str(JUICE_SHOP), "--db", str(tmp_path / "empty.db"), "--fail-on", "low")
    assert run.returncode == 3
    assert "the knowledge base is empty" in run.stderr
    assert "The knowledge base is empty: nothing was checked" in run.stdout
    assert "No known vulnerability found." not in run.stdout


def test_stale_feed_exits_3_unless_max_age_allows_it(store, tmp_path, capsys) -> None:
    db = tmp_path / "stale.db"
    shutil.copy(store["db"], db)
    month_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="seconds").replace("+00:00", "Z")
    table = schema.Coverage.__table__
    with open_store(db) as kb, kb.engine.begin() as conn:
        conn.execute(update(table).where(table.c.scope == "PyPI").values(complete_at=month_ago))
    sbom = tmp_path / "py.cdx.json"
    write(document(Component("six", "1.16.0", purl="pkg:pypi/six@1.16.0")), sbom)
    stale = mamori("scan", str(sbom), "--db", str(db), "--format", "json")
    assert stale.returncode == 3
    assert "the PyPI feed (osv) is 30 d old, over --max-age 7 d" in stale.stderr
    (scope,) = json.loads(stale.stdout)["coverage"]["scopes"]
    assert scope["stale"] is True and scope["complete"] is True and 30 <= scope["age_days"] < 31

    def scan(where: Path, *args: str) -> int:  # in this process: the same command, without the start-up
        code = main(["scan", str(sbom), "--db", str(where), "--lang", "en", *args])
        capsys.readouterr()
        return code

    assert scan(db, "--max-age", "60d") == 0
    assert scan(db, "--max-age", "0") == 0
    assert scan(db, "--max-age", "700h") == 3
    assert scan(db, "--allow-partial") == 0
    assert scan(Path(store["db"])) == 0  # the feed as imported: fresh
    assert main(["scan", str(sbom), "--db", str(db), "--max-age", "a week"]) == 2
    assert capsys.readouterr().err.startswith("mamori: error: --max-age")


def _all_zip(folder: Path, *records: Path) -> Path:
    path = folder / "all.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for record in records:
            archive.write(record, record.name)
    return path


def test_an_osv_all_zip_is_a_complete_feed_of_its_ecosystem(store, tmp_path) -> None:
    db = tmp_path / "kb.db"
    shutil.copy(store["db"], db)
    # OSV's npm export layout (one <id>.json per record), holding the npm record of the shared data
    loaded = mamori("db", "import", str(_all_zip(tmp_path, NPM_RECORD)), "--db", str(db))
    assert loaded.returncode == 0 and "complete feed of: osv npm" in loaded.stdout
    out = tmp_path / "scan.json"
    run = mamori("scan", str(JUICE_SHOP), "--db", str(db), "--format", "json", "-o", str(out))
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["not_evaluated"] == [] and data["coverage"]["complete"] is True
    (npm,) = data["coverage"]["scopes"]
    assert npm["complete"] and npm["source"] == "osv" and npm["origin"].endswith("all.zip")
    assert npm["not_evaluated"] == 0 and npm["components"] == JUICE_COMPONENTS
    # the same records under another name are loose
    other = tmp_path / "npm-some.zip"
    shutil.copy(tmp_path / "all.zip", other)
    db2 = tmp_path / "kb2.db"
    shutil.copy(store["db"], db2)
    assert "loose records only" in mamori("db", "import", str(other), "--db", str(db2)).stdout
    assert mamori("scan", str(JUICE_SHOP), "--db", str(db2)).returncode == 3


def test_an_all_zip_url_is_complete_and_db_status_shows_coverage(shared_data, tmp_path) -> None:
    pillow = shared_data / "osv" / "pypi" / "pillow"
    db = str(tmp_path / "kb.db")
    with Server(Services(shared_data, pillow)) as server:
        run = mamori("db", "import", server.url("/osv/PyPI/all.zip"), "--db", db, "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["coverage"]["complete"] == [{"source": "osv", "scope": "PyPI"}]
    records = len(osv_zip(pillow)[1])
    status = mamori("db", "status", "--db", db, "--format", "json")
    (row,) = json.loads(status.stdout)["coverage"]
    assert (row["source"], row["scope"], row["complete"]) == ("osv", "PyPI", True)
    assert row["complete_origin"].endswith("/osv/PyPI/all.zip") and 0 <= row["age_days"] < 1
    assert 0 < row["records"] <= records
    text = mamori("db", "status", "--db", db).stdout
    assert "Coverage" in text and "complete" in text and "PyPI" in text
    ja = mamori("db", "status", "--db", db, lang="ja").stdout
    assert "カバレッジ" in ja and "完全" in ja


def test_complete_is_refused_for_sources_without_scopes(shared_data, tmp_path) -> None:
    kev = shared_data / "kev" / "known_exploited_vulnerabilities.json"
    run = mamori("db", "import", str(kev), "--source", "kev", "--complete", "--db", str(tmp_path / "k.db"))
    assert run.returncode == 2 and "--complete" in run.stderr


def test_a_component_known_only_by_cpe_needs_a_complete_cpe_feed(shared_data, tmp_path) -> None:
    if not STRUTS.exists():
        pytest.skip(f"{STRUTS} is absent")
    struts = Component("struts", "2.3.5", cpes=["cpe:2.3:a:apache:struts:2.3.5:*:*:*:*:*:*:*"])
    with open_store(tmp_path / "loose.db") as kb:
        import_path(kb, STRUTS)
        loose = scan_document(document(struts), kb, target="t", sbom_format="x")
    assert [f.vulnerability.id for f in loose.findings] == ["CVE-2017-5638"]  # still reported
    (note,) = loose.not_evaluated
    assert note.code == "coverage" and note.values == {"scope": "cpe", "records": 1}
    assert note.text("en") == "no complete CPE (NVD/JVN/CVE 5) feed in the knowledge base (1 loose records)"
    with open_store(tmp_path / "whole.db") as kb:
        import_path(kb, STRUTS, complete=[CoverageClaim("nvd")])
        whole = scan_document(document(struts), kb, target="t", sbom_format="x")
    assert whole.not_evaluated == [] and [f.vulnerability.id for f in whole.findings] == ["CVE-2017-5638"]
    (scope,) = whole.coverage.scopes
    assert (scope.scope, scope.complete, scope.source) == ("cpe", True, "nvd")
