"""A vendor's own component list (CSV / XLSX) → model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.model import Component, Document
from mamori.sbom.formats import ReadOptions
from mamori.sbom.spreadsheet import components
from spreadsheet_fixtures import (
    LINUX_SHA256,
    OPENSSL_SHA1,
    VENDOR_HEADER,
    VENDOR_ROWS,
    VENDOR_TITLE,
    vendor_workbook,
    workbook_bytes,
)

XLSX = Path("ecu-x-parts.xlsx")
CSV = Path("parts.csv")


def read_vendor(**options: object) -> Document:
    return components.read_xlsx(vendor_workbook(), XLSX, ReadOptions(**options))  # type: ignore[arg-type]


def by_name(doc: Document) -> dict[str, Component]:
    return {c.name: c for c in doc.components}


def test_japanese_vendor_workbook_maps_every_column() -> None:
    doc = read_vendor()
    assert doc.spec == "spreadsheet"
    assert doc.name == VENDOR_TITLE  # the title row above the header
    assert [c.name for c in doc.components] == ["linux", "busybox", "openssl", "zlib", "can-driver"]
    comps = by_name(doc)
    linux = comps["linux"]
    assert linux.version == "5.15.148"
    assert linux.supplier is not None and linux.supplier.name == "The Linux Foundation"
    assert linux.purl == "pkg:generic/linux@5.15.148"
    assert linux.cpes == ["cpe:2.3:o:linux:linux_kernel:5.15.148:*:*:*:*:*:*:*"]
    assert [(h.alg, h.value) for h in linux.hashes] == [("SHA-256", LINUX_SHA256)]
    assert linux.type == "operating-system"
    assert linux.license_declared == "GPL-2.0-only WITH Linux-syscall-note"
    assert comps["busybox"].type == "application"
    assert comps["busybox"].license_declared == "GPL-2.0-only"
    assert comps["openssl"].license_declared == "Apache-2.0"
    assert [(h.alg, h.value) for h in comps["openssl"].hashes] == [("SHA-1", OPENSSL_SHA1)]
    assert comps["openssl"].property("mamori:column:備考") == "静的リンク"
    assert comps["zlib"].license_declared == "Zlib"
    assert comps["zlib"].purl is None  # never invented
    assert (
        comps["zlib"].supplier is not None and comps["zlib"].supplier.name == "Jean-loup Gailly, Mark Adler"
    )
    assert all(c.property("mamori:column:項番") is None for c in doc.components)  # row numbers are not kept


def test_unknown_licence_becomes_licenseref_with_its_text_kept() -> None:
    doc = read_vendor()
    ref = by_name(doc)["can-driver"].license_declared
    assert ref is not None and ref.startswith("LicenseRef-")
    infos = json.loads(next(p.value for p in doc.properties if p.name == "spdx:hasExtractedLicensingInfos"))
    assert infos == [{"licenseId": ref, "name": "独自ライセンス"}]


def test_dependencies_resolve_names_and_purls() -> None:
    doc = read_vendor()
    comps = by_name(doc)
    deps = doc.dependencies()
    assert deps[comps["busybox"].bom_ref] == [comps["linux"].bom_ref]
    assert deps[comps["can-driver"].bom_ref] == [
        comps["openssl"].bom_ref,
        comps["zlib"].bom_ref,
        comps["busybox"].bom_ref,
    ]
    assert len({c.bom_ref for c in doc.components}) == len(doc.components)


def test_row_without_name_is_skipped_with_a_bilingual_warning() -> None:
    doc = read_vendor()
    warnings = [p.value for p in doc.properties if p.name == "mamori:warning"]
    assert len(warnings) == 1
    assert "row 10" in warnings[0] and "部品表" in warnings[0] and "no name" in warnings[0]
    assert "名称が空" in warnings[0]


def test_columns_option_overrides_aliases() -> None:
    rows = [["品目", "Rev", "取引先", "部品名"], ["busybox", "1.36.1", "BusyBox", "ビジーボックス"]]
    data = workbook_bytes({"一覧": rows})
    plain = components.read_xlsx(data, XLSX, ReadOptions())
    assert plain.components[0].name == "ビジーボックス"  # alias 部品名 → name
    mapped = components.read_xlsx(
        data, XLSX, ReadOptions(columns={"name": "品目", "version": "Rev", "supplier": "取引先"})
    )
    comp = mapped.components[0]
    assert (comp.name, comp.version) == ("busybox", "1.36.1")
    assert comp.supplier is not None and comp.supplier.name == "BusyBox"
    assert comp.property("mamori:column:部品名") == "ビジーボックス"


def test_cp932_csv_from_japanese_excel() -> None:
    text = (
        "部品一覧（2024年3月）\r\n部品名,バージョン,供給者,ライセンス\r\nzlib,1.3.1,Jean-loup Gailly,zlib\r\n"
        "can-driver,2.4.0,株式会社サンプル電装,MIT/Apache-2.0\r\n"
    )
    doc = components.read_csv(text.encode("cp932"), CSV, ReadOptions())
    assert doc.name == "部品一覧（2024年3月）"
    assert [(c.name, c.version) for c in doc.components] == [("zlib", "1.3.1"), ("can-driver", "2.4.0")]
    assert (
        doc.components[1].supplier is not None and doc.components[1].supplier.name == "株式会社サンプル電装"
    )
    assert doc.components[1].license_declared == "MIT OR Apache-2.0"


def test_utf8_bom_csv_and_tsv() -> None:
    csv_doc = components.read_csv(
        "\ufeffName,Version,Vendor\nlibpng,1.6.43,PNG Reference\n".encode(), CSV, ReadOptions()
    )
    assert (csv_doc.components[0].name, csv_doc.components[0].version) == ("libpng", "1.6.43")
    assert csv_doc.components[0].supplier is not None
    tsv = "名称\t版\tライセンス\nlibpng\t1.6.43\tlibpng-2.0\n".encode("utf-16")
    tsv_doc = components.read_csv(tsv, Path("parts.tsv"), ReadOptions())
    assert tsv_doc.components[0].license_declared == "libpng-2.0"


def test_sheet_option_by_name_and_number() -> None:
    data = workbook_bytes({"A": [["部品名"], ["one"]], "B": [["部品名"], ["two"]]})
    assert components.read_xlsx(data, XLSX, ReadOptions()).components[0].name == "one"
    assert components.read_xlsx(data, XLSX, ReadOptions(sheet="B")).components[0].name == "two"
    assert components.read_xlsx(data, XLSX, ReadOptions(sheet="2")).components[0].name == "two"
    with pytest.raises(InputError, match=r"no sheet named 'C'; sheets: 'A', 'B'"):
        components.read_xlsx(data, XLSX, ReadOptions(sheet="C"))


def test_no_name_column_names_the_file_and_headers() -> None:
    data = "品番,数量,単価\nA-100,3,1200\n".encode()
    with pytest.raises(InputError) as err:
        components.read_csv(data, CSV, ReadOptions())
    assert err.value.path == "parts.csv"
    assert "no component name column" in err.value.problem
    assert "品番, 数量, 単価" in err.value.problem


def test_bad_purl_names_file_sheet_row_and_column() -> None:
    rows = [[VENDOR_TITLE], VENDOR_HEADER, VENDOR_ROWS[0], ["x", "libfoo", "1.0", None, None, "pkg:foo"]]
    with pytest.raises(InputError) as err:
        components.read_xlsx(workbook_bytes({"部品表": rows}), XLSX, ReadOptions())
    assert err.value.path == str(XLSX)
    assert "sheet '部品表', row 4, column 'パッケージURL': invalid purl 'pkg:foo'" in err.value.problem


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("CPE", "linux_kernel 5.15", "invalid CPE 'linux_kernel'"),
        ("SHA256", "abc123", "invalid hash 'abc123': expected 64 hex digits"),
        ("ハッシュ", "sha3:" + "0" * 64, "unknown hash algorithm 'sha3'"),
    ],
)
def test_malformed_cells_are_input_errors(header: str, value: str, message: str) -> None:
    data = f"部品名,{header}\nlibfoo,{value}\n".encode()
    with pytest.raises(InputError) as err:
        components.read_csv(data, CSV, ReadOptions())
    assert f"row 2, column '{header}': {message}" in err.value.problem


def test_columns_option_errors() -> None:
    data = "部品名,版\nzlib,1.3.1\n".encode()
    with pytest.raises(InputError, match="--columns: unknown field colour; known fields: name, version"):
        components.read_csv(data, CSV, ReadOptions(columns={"colour": "色"}))
    with pytest.raises(
        InputError, match=r"--columns: no column headed supplier=仕入先 in row 1; headers there: 部品名, 版"
    ):
        components.read_csv(data, CSV, ReadOptions(columns={"supplier": "仕入先"}))


def test_unstated_cells_and_pre_numbered_empty_rows() -> None:
    data = "項番,部品名,版,仕入先\n1,zlib,-,不明\n2,,,\n3,,,\n".encode()
    doc = components.read_csv(data, CSV, ReadOptions())
    assert [(c.name, c.version, c.supplier) for c in doc.components] == [("zlib", None, None)]
    assert not [p for p in doc.properties if p.name == "mamori:warning"]


def test_type_and_scope_values_outside_cyclonedx_are_kept_as_properties() -> None:
    doc = components.read_csv(
        "部品名,種別,スコープ\nlibfoo,OSS,たぶん\nlibbar,ファームウェア,任意\n".encode(), CSV, ReadOptions()
    )
    foo, bar = doc.components
    assert (foo.type, foo.scope) == ("library", None)
    assert foo.property("mamori:column:種別") == "OSS" and foo.property("mamori:column:スコープ") == "たぶん"
    assert (bar.type, bar.scope) == ("firmware", "optional")


def test_unresolved_dependency_is_a_warning_not_an_edge() -> None:
    data = "部品名,依存先\napp,libmissing\n".encode()
    doc = components.read_csv(data, CSV, ReadOptions())
    assert doc.relationships == []
    assert any("libmissing" in p.value for p in doc.properties if p.name == "mamori:warning")


def test_generic_hash_column_guesses_the_algorithm_from_length() -> None:
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    doc = components.read_csv(f"name,checksum\nempty,{md5}\n".encode(), CSV, ReadOptions())
    assert [(h.alg, h.value) for h in doc.components[0].hashes] == [("MD5", md5)]


def test_purl_fills_a_missing_version_but_never_the_reverse() -> None:
    doc = components.read_csv(
        b"name,purl,version\nlodash,pkg:npm/lodash@4.17.21,\nleft-pad,,1.3.0\n", CSV, ReadOptions()
    )
    assert doc.components[0].version == "4.17.21"
    assert doc.components[1].purl is None
