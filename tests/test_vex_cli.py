"""``mamori vex import`` and ``mamori vex convert``; CycloneDX XML VEX reading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.xml import XmlValidator

from conftest import SHARED_DATA
from mamori import vex
from mamori.cli.main import main

CISA = SHARED_DATA / "vex/cyclonedx/CISA-Use-Cases"
CSAF_EX = SHARED_DATA / "csaf/examples/csaf/csaf_vex"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


def test_import_text_summary(capsys: pytest.CaptureFixture[str]) -> None:
    path = _need(CISA / "Case-3/vex.json")
    assert main(["vex", "import", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: cyclonedx 1.4 VEX — 19 statements, 19 vulnerabilities"
    assert out[2] == "  not affected 6, affected 5, fixed 3, under investigation 5"
    assert "  CVE-2020-11898  affected  GHI 17.4" in out
    assert "      action: We are working to integrate the upstream patches in our code." in out


def test_import_in_japanese(capsys: pytest.CaptureFixture[str]) -> None:
    path = _need(CSAF_EX / "sec-vex-2022-0001.json")
    assert main(["vex", "import", str(path), "--lang", "ja"]) == 0
    out = capsys.readouterr().out
    assert "影響なし 3" in out and "脆弱なコンポーネントが製品に含まれていない" in out


def test_import_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = _need(CSAF_EX / "2022-evd-uc-04-001.json")
    assert main(["vex", "import", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "csaf" and data["id"] == "2022-EVD-UC-04-001"
    assert data["author"] == "Example Company ProductCERT" and data["author_role"] == "vendor"
    assert data["status_counts"]["affected"] == 3
    (st,) = data["statements"]
    assert st["responses"] == ["update"] and st["vulnerability"]["id"] == "CVE-2021-44228"
    assert [p.get("version") or p.get("version_range") for p in st["products"]] == [
        "2.4",
        "2.6",
        "vers:generic/>=2.9|<=4.1",
    ]


def test_import_refuses_a_rule_breach_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = _need(SHARED_DATA / "vex/cyclonedx/Use-Cases/Case-5/vex.json")
    assert main(["vex", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"mamori: error: {path}: CVE-2020-25649 for Acme Product")
    assert main(["vex", "import", str(path), "--lenient"]) == 0
    assert "warning: rule not met: CVE-2020-25649" in capsys.readouterr().out


def test_convert_cdx_to_csaf_and_openvex(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _need(CISA / "Case-7/vex.json")
    csaf_out = tmp_path / "case7.csaf.json"
    assert (
        main(
            [
                "vex",
                "convert",
                str(path),
                "-o",
                str(csaf_out),
                "--author",
                "Example Company ProductCERT",
                "--role",
                "vendor",
                "--namespace",
                "https://psirt.example.com",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == f"{csaf_out}: csaf VEX, 4 statements"
    data = json.loads(csaf_out.read_text(encoding="utf-8"))
    assert data["document"]["publisher"] == {
        "category": "vendor",
        "name": "Example Company ProductCERT",
        "namespace": "https://psirt.example.com",
    }
    assert len(vex.read(csaf_out).statements) == 4
    ov = tmp_path / "case7.openvex.json"
    assert main(["vex", "convert", str(csaf_out), "-o", str(ov)]) == 0
    assert json.loads(ov.read_text(encoding="utf-8"))["author"] == "Example Company ProductCERT"
    cdx = tmp_path / "back.json"
    assert (
        main(["vex", "convert", str(ov), "-o", str(cdx), "--to", "cyclonedx", "--spec-version", "1.4"]) == 0
    )
    assert json.loads(cdx.read_text(encoding="utf-8"))["specVersion"] == "1.4"


def test_convert_errors_name_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _need(CISA / "Case-1/vex-fixed.json")
    out = tmp_path / "x.csaf.json"
    assert main(["vex", "convert", str(path), "-o", str(out)]) == 2
    assert "csaf needs the document author" in capsys.readouterr().err
    assert main(["vex", "convert", str(path), "-o", str(out), "--author", "Example Corp"]) == 2
    assert "--namespace" in capsys.readouterr().err
    assert not out.exists()
    assert main(["vex", "convert", str(path), "-o", str(tmp_path / "x.json")]) == 2
    assert "give --to" in capsys.readouterr().err
    assert main(["vex", "import", str(tmp_path / "missing.json")]) == 2
    assert "file not found" in capsys.readouterr().err


# CISA use case 6 (CycloneDX JSON in the shared data) written as CycloneDX 1.4 XML
CASE_6_XML = """<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">
  <metadata>
    <timestamp>2022-03-03T00:00:00Z</timestamp>
    <component type="application" bom-ref="product-ABC"><name>ABC</name></component>
  </metadata>
  <vulnerabilities>
    <vulnerability>
      <id>CVE-2021-44228</id>
      <source><name>NVD</name><url>https://nvd.nist.gov/vuln/detail/CVE-2021-44228</url></source>
      <analysis>
        <state>exploitable</state>
        <responses><response>will_not_fix</response><response>update</response></responses>
        <detail>Versions of Product ABC are affected by the vulnerability. Customers are advised to upgrade to the latest release.</detail>
      </analysis>
      <affects><target><ref>product-ABC</ref><versions>
        <version><version>2.4</version><status>affected</status></version>
        <version><version>2.6</version><status>affected</status></version>
        <version><range>vers:generic/&gt;=2.9|&lt;=4.1</range><status>affected</status></version>
      </versions></target></affects>
    </vulnerability>
    <vulnerability>
      <id>CVE-2021-44228</id>
      <source><name>NVD</name><url>https://nvd.nist.gov/vuln/detail/CVE-2021-44228</url></source>
      <analysis>
        <state>not_affected</state>
        <justification>code_not_present</justification>
        <responses><response>will_not_fix</response></responses>
        <detail>These versions of Product ABC are not affected by the vulnerability. Class with vulnerable code was removed before shipping.</detail>
      </analysis>
      <affects><target><ref>product-ABC</ref><versions>
        <version><range>vers:generic/&gt;=1.0|&lt;=2.3</range><status>unaffected</status></version>
        <version><version>2.5</version><status>unaffected</status></version>
        <version><range>vers:generic/&gt;=2.7|&lt;=2.8</range><status>unaffected</status></version>
        <version><version>4.2</version><status>unaffected</status></version>
      </versions></target></affects>
    </vulnerability>
  </vulnerabilities>
</bom>
"""


def test_cyclonedx_xml_reads_like_its_json_twin(tmp_path: Path) -> None:
    json_path = _need(CISA / "Case-6/vex.json")
    assert XmlValidator(SchemaVersion.V1_4).validate_str(CASE_6_XML) is None
    xml_path = tmp_path / "case6.cdx.xml"
    xml_path.write_text(CASE_6_XML, encoding="utf-8")
    from_xml, from_json = vex.read(xml_path), vex.read(json_path)
    assert from_xml.statements == from_json.statements
    assert from_xml.timestamp == from_json.timestamp


def test_xml_with_a_dtd_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"/>',
        encoding="utf-8",
    )
    assert main(["vex", "import", str(path)]) == 2


def test_csaf_status_conflict_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _need(CISA / "Case-8/vex.json")
    out = tmp_path / "case8.csaf.json"
    args = [
        "vex",
        "convert",
        str(path),
        "-o",
        str(out),
        "--author",
        "Example",
        "--namespace",
        "https://example.org",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mamori: error: {path}: CVE-2021-45105: CSAF cannot give one product two statuses")
    assert not out.exists()
