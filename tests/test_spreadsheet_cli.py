"""``mamori sbom convert`` from spreadsheets, end to end in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori import sbom
from mamori.cli.main import main
from spreadsheet_fixtures import lite_workbook, vendor_workbook, workbook_bytes


def test_vendor_xlsx_to_cyclonedx_with_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vendor = tmp_path / "vendor.xlsx"
    vendor.write_bytes(vendor_workbook())
    out = tmp_path / "out.cdx.json"
    code = main(
        [
            "sbom",
            "convert",
            str(vendor),
            "-o",
            str(out),
            "--columns",
            "supplier=仕入先,name=部品名,version=版",
        ]
    )
    assert code == 0, capsys.readouterr().err
    bom = json.loads(out.read_text(encoding="utf-8"))
    assert bom["bomFormat"] == "CycloneDX"
    by_name = {c["name"]: c for c in bom["components"]}
    assert set(by_name) == {"linux", "busybox", "openssl", "zlib", "can-driver"}
    assert by_name["openssl"]["version"] == "3.0.13"
    assert by_name["openssl"]["supplier"]["name"] == "OpenSSL Software Foundation"
    assert by_name["openssl"]["purl"] == "pkg:generic/openssl@3.0.13"
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom.get("dependencies", [])}
    assert deps[by_name["busybox"]["bom-ref"]] == [by_name["linux"]["bom-ref"]]
    assert "5 components" in capsys.readouterr().out


def test_vendor_xlsx_to_spdx_lite_xlsx_and_back(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor.xlsx"
    vendor.write_bytes(vendor_workbook())
    out = tmp_path / "lite.xlsx"
    assert main(["sbom", "convert", str(vendor), "-o", str(out), "--to", "spdx-lite-xlsx"]) == 0
    doc = sbom.read(out)
    assert doc.spec == "spdx-lite"
    assert [c.name for c in doc.components] == ["linux", "busybox", "openssl", "zlib", "can-driver"]
    driver = doc.components[-1]
    infos = json.loads(next(p.value for p in doc.properties if p.name == "spdx:hasExtractedLicensingInfos"))
    assert infos == [{"licenseId": driver.license_declared, "name": "独自ライセンス"}]  # text: NOASSERTION


def test_spdx_lite_xlsx_to_csv(tmp_path: Path) -> None:
    source = tmp_path / "ecu.xlsx"
    source.write_bytes(lite_workbook())
    out = tmp_path / "ecu.csv"
    assert main(["sbom", "convert", str(source), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert [c.bom_ref for c in sbom.read(out).components] == ["SPDXRef-1", "SPDXRef-2"]


def test_bad_cell_is_one_line_error_and_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "bad.xlsx"
    source.write_bytes(workbook_bytes({"部品表": [["部品名", "PURL"], ["zlib", "zlib-1.3"]]}))
    out = tmp_path / "out.csv"
    assert main(["sbom", "convert", str(source), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        f"mamori: error: {source}: sheet '部品表', row 2, column 'PURL': invalid purl 'zlib-1.3'"
    )
    assert not out.exists()
