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


def _two_sheet_workbooks(tmp_path: Path) -> tuple[Path, Path]:
    """Two releases of a parts list, each workbook with a draft sheet first and the real list second."""
    paths = []
    for release, zlib in (("r1", "1.2.13"), ("r2", "1.3.1")):
        path = tmp_path / f"{release}.xlsx"
        path.write_bytes(
            workbook_bytes(
                {
                    "下書き": [["部品名", "版"], ["draft-only", "0.1"]],
                    "部品表": [
                        ["部品名", "版", "仕入先"],
                        ["zlib", zlib, "zlib project"],
                        ["busybox", "1.36.1", "BusyBox"],
                    ],
                }
            )
        )
        paths.append(path)
    return paths[0], paths[1]


@pytest.mark.parametrize("sheet", ["部品表", "2"])
def test_sheet_option_reaches_the_reader_in_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sheet: str
) -> None:
    first, second = _two_sheet_workbooks(tmp_path)
    out = tmp_path / "out.cdx.json"
    assert main(["sbom", "convert", str(first), "-o", str(out)]) == 0  # without --sheet: the first list
    assert [c["name"] for c in json.loads(out.read_text(encoding="utf-8"))["components"]] == ["draft-only"]
    assert main(["sbom", "convert", str(first), "-o", str(out), "--sheet", sheet]) == 0
    assert [c["name"] for c in json.loads(out.read_text(encoding="utf-8"))["components"]] == [
        "zlib",
        "busybox",
    ]
    capsys.readouterr()

    assert main(["sbom", "check", str(first), "--sheet", sheet, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["components"] == 2 and report["ntia"]["elements"]["supplier"]["present"] == 2

    assert main(["sbom", "diff", str(first), str(second), "--sheet", sheet, "--format", "json"]) == 0
    changed = json.loads(capsys.readouterr().out)["version_changed"]
    assert [(c["name"], c["before"], c["after"]) for c in changed] == [("zlib", "1.2.13", "1.3.1")]

    merged = tmp_path / "merged.cdx.json"
    assert main(["sbom", "merge", str(first), str(second), "-o", str(merged), "--sheet", sheet]) == 0
    names = sorted(c["name"] for c in json.loads(merged.read_text(encoding="utf-8"))["components"])
    # each input under a root named after its file; without purls nothing is a duplicate
    assert names == ["busybox", "busybox", "r1", "r2", "zlib", "zlib"]


def test_unknown_sheet_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, _ = _two_sheet_workbooks(tmp_path)
    assert main(["sbom", "check", str(first), "--sheet", "仕様"]) == 2
    err = capsys.readouterr().err
    assert err == f"mamori: error: {first}: no sheet named '仕様'; sheets: '下書き', '部品表'\n"
