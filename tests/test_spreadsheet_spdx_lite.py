"""SPDX Lite CSV / XLSX: reading the layouts people use, writing, and write → read keeping every field."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from mamori import model
from mamori.errors import InputError
from mamori.model import Component, Contact, Document, ExternalReference, Property, Tool
from mamori.sbom.formats import ReadOptions
from mamori.sbom.spreadsheet import spdx_lite
from mamori.sbom.spreadsheet.lite_fields import DROPPED, dropped_for, fields_at, lite_fields
from spreadsheet_fixtures import lite_workbook, workbook_bytes

XLSX = Path("ecu-x.spdx-lite.xlsx")
CSV = Path("ecu-x.spdx-lite.csv")


def test_field_list_matches_the_spdx_23_annex() -> None:
    fields = lite_fields()
    assert len(fields) == 25  # 7 document, 14 package (2 added in SPDX 2.3), 4 licence fields
    tags = [f.tag for f in fields]
    assert tags[:7] == ["SPDXVersion", "DataLicense", "SPDXID", "DocumentName", "DocumentNamespace", "Creator",
                        "Created"]  # fmt: skip
    assert {
        "PackageSupplier",
        "ExternalRef",
        "LicenseID",
        "ExtractedText",
        "LicenseName",
        "LicenseComment",
    } <= set(tags)
    assert all(f.en and f.ja for f in fields)
    assert [f.tag for f in fields_at("package", "2.2")].count("PackageSupplier") == 0
    required = {f.tag for f in fields if f.required is True and f.level == "package"}
    assert required == {"PackageName", "SPDXID", "PackageDownloadLocation", "PackageLicenseConcluded",
                        "PackageLicenseDeclared", "PackageCopyrightText"}  # fmt: skip


def test_openchain_style_workbook_with_japanese_labels() -> None:
    doc = spdx_lite.read_xlsx(lite_workbook(), XLSX, ReadOptions())
    assert doc.spec == "spdx-lite" and doc.spec_version == "2.3"
    assert doc.name == "ECU-X-SPDX-Lite" and doc.data_license == "CC0-1.0"
    assert doc.serial_number == "https://example.com/spdxdocs/ecu-x-2024-03"
    assert doc.timestamp == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert doc.authors == [Contact("株式会社サンプル電装", email="oss@sample-denso.example")]
    assert doc.tools == [Tool("excel-manual")]
    busybox, driver = doc.components
    assert (busybox.name, busybox.version, busybox.bom_ref) == ("busybox", "1.36.1", "SPDXRef-1")
    assert busybox.supplier == Contact("BusyBox")
    assert busybox.download_location == "https://busybox.net/downloads/busybox-1.36.1.tar.bz2"
    assert busybox.external_references == [ExternalReference("website", "https://busybox.net/")]
    assert busybox.license_concluded == busybox.license_declared == "GPL-2.0-only"
    assert busybox.copyright is None  # NOASSERTION
    assert busybox.purl == "pkg:generic/busybox@1.36.1"
    assert busybox.cpes == ["cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*"]
    assert busybox.property("spdx:packageFileName") == "busybox-1.36.1.tar.bz2"
    assert busybox.property("spdx:comment") == "ModificationRecord: false"
    assert driver.download_location is None and driver.property("spdx:downloadLocation") == "NONE"
    assert driver.license_declared == "LicenseRef-sample-denso"
    assert driver.property("spdx:licenseComments") == "自社ライセンス"
    assert driver.copyright == "Copyright 2024 株式会社サンプル電装"
    infos = json.loads(next(p.value for p in doc.properties if p.name == "spdx:hasExtractedLicensingInfos"))
    assert infos == [
        {
            "licenseId": "LicenseRef-sample-denso",
            "extractedText": "本ソフトウェアは契約の範囲でのみ利用できます。",
            "name": "サンプル電装ソフトウェア使用許諾",
            "comment": "契約書第5条",
        }
    ]


def test_flat_csv_with_document_columns_in_cp932() -> None:
    text = (
        "SPDXバージョン,作成者,作成日時,ドキュメント名,パッケージ名,パッケージバージョン,宣言ライセンス\r\n"
        "SPDX-2.2,Organization: 株式会社サンプル電装,2024/03/01,部品表,zlib,1.3.1,Zlib\r\n"
        "SPDX-2.2,Organization: 株式会社サンプル電装,2024/03/01,部品表,libpng,1.6.43,libpng-2.0\r\n"
    )
    doc = spdx_lite.read_csv(text.encode("cp932"), CSV, ReadOptions())
    assert (doc.spec_version, doc.name) == ("2.2", "部品表")
    assert doc.timestamp == datetime(2024, 3, 1, tzinfo=UTC)
    assert doc.authors == [Contact("株式会社サンプル電装")]  # repeated on every row, kept once
    assert [(c.name, c.version, c.license_declared) for c in doc.components] == [
        ("zlib", "1.3.1", "Zlib"),
        ("libpng", "1.6.43", "libpng-2.0"),
    ]
    assert [c.bom_ref for c in doc.components] == ["SPDXRef-Package-1", "SPDXRef-Package-2"]


def test_table_led_by_a_row_number_column() -> None:
    rows = [["No.", "Package Name", "Package Version"], [1, "zlib", "1.3.1"], [2, "libpng", "1.6.43"]]
    doc = spdx_lite.read_xlsx(workbook_bytes({"一覧": rows}), XLSX, ReadOptions())
    assert [(c.name, c.version) for c in doc.components] == [("zlib", "1.3.1"), ("libpng", "1.6.43")]


def test_sheet_option_reads_only_that_sheet() -> None:
    header = ["Package Name", "Package Version"]
    data = workbook_bytes({"ECU-A": [header, ["zlib", "1.3.1"]], "ECU-B": [header, ["libpng", "1.6.43"]]})
    names = {
        sheet: [c.name for c in spdx_lite.read_xlsx(data, XLSX, ReadOptions(sheet=sheet)).components]
        for sheet in (None, "ECU-B", "1")
    }
    assert names == {None: ["zlib", "libpng"], "ECU-B": ["libpng"], "1": ["zlib"]}
    with pytest.raises(InputError, match=r"no sheet named 'ECU-C'; sheets: 'ECU-A', 'ECU-B'"):
        spdx_lite.read_xlsx(data, XLSX, ReadOptions(sheet="ECU-C"))


def test_tag_value_like_rows_and_vertical_package_columns() -> None:
    sequence = (
        "SPDXVersion,SPDX-2.3\nDocumentName,seq\nPackageName,zlib\nSPDXID,SPDXRef-zlib\nPackageVersion,1.3.1\n"
        "PackageName,libpng\nSPDXID,SPDXRef-png\nPackageVersion,1.6.43\n"
    )
    doc = spdx_lite.read_csv(sequence.encode(), CSV, ReadOptions())
    assert [(c.name, c.bom_ref, c.version) for c in doc.components] == [
        ("zlib", "SPDXRef-zlib", "1.3.1"),
        ("libpng", "SPDXRef-png", "1.6.43"),
    ]
    assert doc.properties == []  # SPDXID after a package name is the package's, not the document's
    vertical = [["Package Name", "zlib", "libpng"], ["Package Version", "1.3.1", "1.6.43"],
                ["Declared License", "Zlib", "libpng-2.0"]]  # fmt: skip
    doc = spdx_lite.read_xlsx(workbook_bytes({"縦": vertical}), XLSX, ReadOptions())
    assert [(c.name, c.version, c.license_declared) for c in doc.components] == [
        ("zlib", "1.3.1", "Zlib"),
        ("libpng", "1.6.43", "libpng-2.0"),
    ]


SWH_REF = {
    "referenceCategory": "PERSISTENT-ID",
    "referenceType": "swh",
    "referenceLocator": "swh:1:cnt:94a9ed024d3859793618152ea559a168bbcbb5e2",
}


def full_document() -> Document:
    """A model using every SPDX Lite field."""
    openssl = Component(
        "openssl",
        "3.0.13",
        bom_ref="SPDXRef-openssl",
        supplier=Contact("OpenSSL Software Foundation", email="openssl-users@openssl.org"),
        purl="pkg:generic/openssl@3.0.13",
        cpes=["cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*"],
        license_concluded="Apache-2.0 AND LicenseRef-openssl-patch",
        license_declared="Apache-2.0",
        copyright="Copyright (c) 1998-2024 The OpenSSL Project Authors",
        download_location="https://www.openssl.org/source/openssl-3.0.13.tar.gz",
        external_references=[
            ExternalReference("website", "https://www.openssl.org/"),
            ExternalReference("advisories", "https://www.openssl.org/news/vulnerabilities.html"),
            ExternalReference("vcs", "https://github.com/openssl/openssl"),
        ],
        properties=[
            Property("spdx:packageFileName", "openssl-3.0.13.tar.gz"),
            Property("spdx:licenseComments", "パッチは自社ライセンス"),
            Property("spdx:comment", '=HYPERLINK("x")\nCompileOptions: no-idea'),
            Property("spdx:externalRefs", json.dumps([SWH_REF])),
        ],
    )
    nested = Component(
        "crypto-helper", "0.1", bom_ref="SPDXRef-helper", properties=[Property("spdx:copyrightText", "NONE")]
    )
    openssl.components.append(nested)
    extracted = [{"licenseId": "LicenseRef-openssl-patch", "extractedText": "社内パッチの利用条件。",
                  "name": "OpenSSL パッチ", "comment": "契約書第5条"}]  # fmt: skip
    return Document(
        spec="cyclonedx",
        name="ECU-X",
        serial_number="https://example.com/spdxdocs/ecu-x-1",
        data_license="CC0-1.0",
        timestamp=datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        authors=[
            Contact("株式会社サンプル電装", email="oss@sample-denso.example"),
            Contact("山田 太郎", kind="person"),
        ],
        tools=[Tool("mamori", version="0.1.0")],
        components=[openssl],
        properties=[Property("spdx:hasExtractedLicensingInfos", json.dumps(extracted, ensure_ascii=False))],
    )


@pytest.mark.parametrize(("write", "read", "path"), [
    (spdx_lite.write_csv, spdx_lite.read_csv, CSV),
    (spdx_lite.write_xlsx, spdx_lite.read_xlsx, XLSX),
])  # fmt: skip
def test_write_then_read_keeps_every_spdx_lite_field(write, read, path) -> None:
    original = full_document()
    doc = read(write(original, None), path, ReadOptions())
    assert (doc.spec, doc.spec_version, doc.name, doc.data_license) == (
        "spdx-lite",
        "2.3",
        "ECU-X",
        "CC0-1.0",
    )
    assert doc.serial_number == original.serial_number and doc.timestamp == original.timestamp
    assert doc.authors == original.authors and doc.tools == original.tools
    openssl, helper = doc.components
    source = original.components[0]
    for name in ("name", "version", "bom_ref", "supplier", "purl", "cpes", "license_concluded", "license_declared",
                 "copyright", "download_location", "external_references"):  # fmt: skip
        assert getattr(openssl, name) == getattr(source, name), name
    assert openssl.properties == source.properties
    assert (helper.name, helper.bom_ref, helper.copyright) == ("crypto-helper", "SPDXRef-helper", None)
    assert helper.property("spdx:copyrightText") == "NONE"
    assert doc.properties == original.properties  # LicenseRef table


def test_output_is_stable_after_one_round_trip() -> None:
    first = spdx_lite.write_csv(full_document(), None)
    again = spdx_lite.write_csv(spdx_lite.read_csv(first, CSV, ReadOptions()), None)
    assert again == first


def test_csv_is_utf8_with_bom_and_formulas_are_neutralised() -> None:
    data = spdx_lite.write_csv(full_document(), None)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "パッケージ名" in text and "Package Name" in text
    assert "'=HYPERLINK" in text  # Excel shows it as text instead of running it


def test_xlsx_has_three_sheets_with_text_cells() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(spdx_lite.write_xlsx(full_document(), None)))
    assert workbook.sheetnames == ["Document 文書情報", "Packages パッケージ", "Licenses ライセンス"]
    packages = workbook["Packages パッケージ"]
    assert packages["A1"].value == "Package Name / パッケージ名"
    comment_column = [c.value for c in packages[1]].index("Package Comment / パッケージに関するコメント") + 1
    cell = packages.cell(row=2, column=comment_column)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert workbook["Licenses ライセンス"]["A2"].value == "LicenseRef-openssl-patch"


def test_control_characters_from_other_formats_do_not_break_xlsx() -> None:
    doc = Document(components=[Component("esc\x1bape", "1.0\x00")])
    back = spdx_lite.read_xlsx(spdx_lite.write_xlsx(doc, None), XLSX, ReadOptions())
    assert (back.components[0].name, back.components[0].version) == ("escape", "1.0")


def test_spdx_22_has_no_supplier_or_external_ref_and_other_versions_are_refused() -> None:
    text = spdx_lite.write_csv(full_document(), "2.2").decode("utf-8-sig")
    assert "SPDX-2.2" in text and "Package Supplier" not in text and "External Reference" not in text
    with pytest.raises(InputError, match=r"SPDX Lite is written as SPDX 2\.2 or 2\.3, not '1\.6'"):
        spdx_lite.write_csv(full_document(), "1.6")
    assert {"Component.purl", "Component.cpes", "Component.supplier"} <= set(dropped_for("2.2")) - set(
        DROPPED
    )


def test_dropped_names_real_model_fields_including_hash_and_dependencies() -> None:
    assert {"Component.hashes", "Document.relationships"} <= set(DROPPED)
    for entry in dropped_for("2.2"):
        cls, attr = entry.split(".")
        assert attr in {f.name for f in dataclasses.fields(getattr(model, cls))}, entry


def test_lossy_fields_are_really_lost() -> None:
    doc = full_document()
    doc.components[0].hashes.append(model.Hash("SHA-256", "0" * 64))
    doc.relationships.append(model.Relationship("SPDXRef-openssl", "SPDXRef-helper"))
    back = spdx_lite.read_csv(spdx_lite.write_csv(doc, None), CSV, ReadOptions())
    assert back.relationships == [] and all(not c.hashes for c in back.components)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SPDXVersion,2.x\nPackageName,zlib\n", "row 1: SPDX Version '2.x' is not like SPDX-2.3"),
        ("Created,yesterday\nPackageName,zlib\n", "row 1: Created 'yesterday' is not an ISO 8601"),
        ("PackageName,ExternalRef\nzlib,purl pkg:generic/zlib\n", "row 2, column 'ExternalRef': ExternalRef"),
        ("PackageName,ExternalRef\nzlib,PACKAGE-MANAGER purl zlib\n", "invalid purl 'zlib'"),
        ("foo,bar\n1,2\n", "no SPDX Lite fields found"),
    ],
)
def test_bad_cells_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        spdx_lite.read_csv(text.encode(), CSV, ReadOptions())
    assert err.value.path == str(CSV) and message in err.value.problem


def test_excel_date_cell_and_non_spdx_licence_names() -> None:
    rows = [["SPDX Version", "SPDX-2.3"], ["Created", datetime(2024, 3, 1, 9, 0)], [],
            ["Package Name", "Declared License", "Concluded License"], ["zlib", "zlib License", "不明"]]  # fmt: skip
    doc = spdx_lite.read_xlsx(workbook_bytes({"s": rows}), XLSX, ReadOptions())
    assert doc.timestamp == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert doc.components[0].license_declared == "Zlib" and doc.components[0].license_concluded is None
