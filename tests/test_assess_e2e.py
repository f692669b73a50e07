"""End to end: a guideline assessment for a developer + supplier → answers from the Excel questionnaire →
evidence proposed from an SBOM (and a scan report when `mamori scan` is in the build) → declaration as JSON, HTML
and PDF → a customer's comparison shows the expected gaps."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess

import openpyxl
import pytest

from assess_helpers import DEMO_SBOM, run
from conftest import SHARED_DATA
from mamori.compliance.questionnaire import COLUMNS, ITEMS_SHEET, status_label
from mamori.sbom import formats
from mamori.sbom.check import check_document

KEYCLOAK = SHARED_DATA / "sbom" / "cyclonedx" / "keycloak-10.0.2" / "bom.json"
SBOMS = [pytest.param(DEMO_SBOM, "shop-portal 2.1.0", id="demo")]
if KEYCLOAK.exists():
    SBOMS.append(pytest.param(KEYCLOAK, "keycloak-parent 10.0.2", id="keycloak"))

PROFILE = """\
profile: 調達におけるセキュリティ要件（S(6)-2.1）
organization: 顧客株式会社
framework: guideline
catalog_version: "1"
requirements:
  - id: "S(1)-1.1"
    evidence: true
  - id: "S(1)-1.2"
    allow_not_applicable: false
  - id: "S(2)-1.1"
    evidence: true
  - id: "S(2)-1.4"
  - id: "S(2)-2.3"
    evidence: true
  - under: "S(3)-2"
    status: partial
"""


@pytest.mark.parametrize(("sbom", "scope"), SBOMS)
def test_assessment_to_declaration_to_customer_comparison(tmp_path, capsys, sbom, scope):
    db = str(tmp_path / "m.db")
    code, out, _ = run(
        capsys,
        "assess",
        "new",
        "--framework",
        "guideline",
        "--org",
        "サプライヤ株式会社",
        "--roles",
        "developer,supplier",
        "--scope",
        scope,
        "--db",
        db,
        "--lang",
        "en",
    )
    assert code == 0 and "Created assessment 1 (Guideline, 56 applicable items)" in out

    # 1. answers from the questionnaire
    workbook = tmp_path / "questionnaire.xlsx"
    assert run(capsys, "assess", "export-xlsx", "1", "-o", str(workbook), "--db", db)[0] == 0
    (tmp_path / "procurement-rules.pdf").write_bytes(b"%PDF-1.4 rules")
    has_scan = importlib.util.find_spec("mamori.scan.run") is not None
    wb = openpyxl.load_workbook(workbook)
    ws = wb[ITEMS_SHEET]
    header = [c.value for c in ws[1]]
    col = {k: header.index(COLUMNS[k][0]) + 1 for k in ("status", "owner", "due", "evidence", "reason")}
    for row in range(2, ws.max_row + 1):
        item = ws.cell(row=row, column=1).value
        status = "implemented"
        if item == "S(1)-1.2":
            status = "not_applicable"
            ws.cell(row=row, column=col["reason"], value="設計はすべて顧客が行う")
        elif item == "S(3)-2.1":
            status = "not_implemented"
            ws.cell(row=row, column=col["owner"], value="PSIRT")
            ws.cell(row=row, column=col["due"], value="2027-03-31")
        elif item == "S(2)-1.1":
            ws.cell(row=row, column=col["evidence"], value="procurement-rules.pdf")
        elif item == "S(2)-2.3" or (item == "S(2)-1.4" and has_scan):
            status = None  # left for the evidence proposals
        elif item == "S(2)-1.4":
            status = "partial"
        ws.cell(row=row, column=col["status"], value=status_label(status) if status else None)
    wb.save(workbook)
    code, out, err = run(capsys, "assess", "import-xlsx", "1", str(workbook), "--db", db, "--lang", "en")
    assert code == 0, err
    assert out.startswith("Read 56 rows")

    # 2. evidence proposed from the SBOM (and the scan report), confirmed by a person
    argv = ["assess", "propose", "1", "--sbom", str(sbom), "--db", db, "--lang", "en"]
    scan_complete = False
    if has_scan:
        report = tmp_path / "scan.json"
        scan = ["scan", str(sbom), "--format", "json", "-o", str(report), "--db", str(tmp_path / "kb.db")]
        code, _, err = run(capsys, *scan)
        assert code == 3 and "cannot judge" in err  # an empty knowledge base judges nothing
        code, _, err = run(capsys, *scan, "--allow-partial")  # the partial report is still evidence
        assert code == 0, err
        scan_complete = not json.loads(report.read_text())["not_evaluated"]
        argv += ["--scan", str(report)]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "S(2)-2.3" in out and ("S(2)-1.4" in out) == has_scan
    assert run(capsys, "assess", "confirm", "1", "--all", "--db", db)[0] == 0
    code, out, _ = run(capsys, "assess", "show", "1", "--format", "json", "--db", db)
    items = {i["id"]: i for i in json.loads(out)["items"]}
    ntia = check_document(formats.read(sbom)).ntia.passed
    assert items["S(2)-2.3"]["status"] == ("implemented" if ntia else "partial")
    assert items["S(2)-1.1"]["status"] == "implemented"  # the proposal does not override a person's answer
    assert [e["kind"] for e in items["S(2)-1.1"]["evidence"]] == ["file", "artifact"]
    expected_scan_status = "implemented" if (has_scan and scan_complete) else "partial"
    assert items["S(2)-1.4"]["status"] == expected_scan_status

    # 3. gaps
    code, out, _ = run(capsys, "assess", "gaps", "1", "--format", "json", "--db", db)
    gaps = [g["id"] for g in json.loads(out)["gaps"]]
    expected_gaps = [
        g
        for g, bad in (
            ("S(2)-1.4", expected_scan_status != "implemented"),
            ("S(2)-2.3", not ntia),
            ("S(3)-2.1", True),
        )
        if bad
    ]
    assert gaps == expected_gaps

    # 4. the declaration
    out_dir = tmp_path / "declaration"
    code, out, _ = run(
        capsys,
        "assess",
        "declare",
        "1",
        "--approver",
        "山田太郎, 代表取締役社長",
        "--date",
        "2026-11-20",
        "-o",
        str(out_dir),
        "--db",
        db,
        "--lang",
        "ja",
    )
    assert code == 0 and out.count("を書き出しました") == 5
    declaration = json.loads((out_dir / "declaration.json").read_text(encoding="utf-8"))
    assert declaration["scope"] == scope and declaration["approver"]["title"] == "代表取締役社長"
    assert declaration["catalog"]["version"] == "1" and len(declaration["items"]) == 56
    assert "サプライヤ株式会社" in (out_dir / "declaration.ja.html").read_text(encoding="utf-8")
    if shutil.which("pdftotext") and shutil.which("pdftoppm"):
        for lang, title in (("ja", "自己適合宣言書"), ("en", "Self-conformity declaration")):
            pdf = out_dir / f"declaration.{lang}.pdf"
            text = subprocess.run(
                ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
            ).stdout
            assert title in text and "S(3)-2.1" in text
            subprocess.run(
                ["pdftoppm", "-r", "60", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp_path / lang)],
                check=True,
            )
            pixels = next(tmp_path.glob(f"{lang}*.pgm")).read_bytes().split(b"\n", 3)[3]
            assert sum(1 for p in pixels if p < 200) > 0.003 * len(pixels)

    # 5. the customer's comparison with its procurement profile
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    code, out, _ = run(
        capsys,
        "assess",
        "compare",
        str(out_dir / "declaration.json"),
        "--profile",
        str(profile),
        "--format",
        "json",
    )
    assert code == 1
    found = sorted((g["item"], g["problem"]) for g in json.loads(out)["gaps"])
    expected = [("S(1)-1.1", "evidence"), ("S(1)-1.2", "not_applicable"), ("S(3)-2.1", "status")]
    if expected_scan_status != "implemented":
        expected.append(("S(2)-1.4", "status"))
    if not ntia:
        expected.append(("S(2)-2.3", "status"))
    assert found == sorted(expected)
    code, out, _ = run(
        capsys,
        "assess",
        "compare",
        str(out_dir / "declaration.json"),
        "--profile",
        str(profile),
        "--lang",
        "ja",
    )
    assert code == 1 and f"{len(expected)} 件のギャップがあります。" in out and "証跡がありません" in out
