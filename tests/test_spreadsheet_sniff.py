"""Telling SPDX Lite from a vendor list, and bad bytes: only ever InputError."""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori import sbom
from mamori.errors import InputError
from mamori.sbom.formats import ReadOptions
from mamori.sbom.spreadsheet import components, sniff_kind, spdx_lite
from spreadsheet_fixtures import lite_workbook, vendor_workbook

XLSX = Path("list.xlsx")
CSV = Path("list.csv")
LITE_CSV = (
    "SPDX Version / SPDXバージョン,SPDX-2.3\r\n\r\nパッケージ名,パッケージSPDX識別子\r\nzlib,SPDXRef-1\r\n"
)
VENDOR_CSV = "部品名,バージョン,仕入先\r\nzlib,1.3.1,Jean-loup Gailly\r\n"


def test_sniff_kind() -> None:
    assert sniff_kind(lite_workbook(), XLSX, xlsx=True) == "spdx-lite"
    assert sniff_kind(vendor_workbook(), XLSX, xlsx=True) == "spreadsheet"
    assert sniff_kind(LITE_CSV.encode("cp932"), CSV, xlsx=False) == "spdx-lite"
    assert sniff_kind(VENDOR_CSV.encode(), CSV, xlsx=False) == "spreadsheet"
    # パッケージ名 alone is a vendor's word too; it takes an SPDX-only field to make SPDX Lite
    assert (
        sniff_kind("パッケージ名,バージョン,ライセンス\nzlib,1.3.1,Zlib\n".encode(), CSV, xlsx=False)
        == "spreadsheet"
    )
    assert sniff_kind(b"PackageName,PackageLicenseDeclared\nzlib,Zlib\n", CSV, xlsx=False) == "spdx-lite"
    written = spdx_lite.write_xlsx(spdx_lite.read_xlsx(lite_workbook(), XLSX, ReadOptions()), None)
    assert sniff_kind(written, XLSX, xlsx=True) == "spdx-lite"


def test_read_detects_the_kind_from_content(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(lite_workbook())
    (tmp_path / "b.xlsx").write_bytes(vendor_workbook())
    (tmp_path / "c.csv").write_bytes(VENDOR_CSV.encode("cp932"))
    assert sbom.detect_format(lite_workbook(), tmp_path / "a.xlsx") == "spdx-lite-xlsx"
    assert sbom.read(tmp_path / "a.xlsx").spec == "spdx-lite"
    assert sbom.read(tmp_path / "b.xlsx").spec == "spreadsheet"
    assert sbom.read(tmp_path / "c.csv").components[0].supplier.name == "Jean-loup Gailly"  # type: ignore[union-attr]


def test_corrupt_workbooks_are_input_errors(tmp_path: Path) -> None:
    not_a_zip = b"PK\x03\x04" + bytes(range(256)) * 4
    with pytest.raises(InputError, match=r"list\.xlsx: not a readable XLSX workbook \(BadZipFile"):
        sniff_kind(not_a_zip, XLSX, xlsx=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(InputError, match="not a readable XLSX workbook"):
        components.read_xlsx(buffer.getvalue(), XLSX, ReadOptions())
    random_named_xlsx = tmp_path / "vendor.xlsx"
    random_named_xlsx.write_bytes(bytes(range(1, 256)) * 8)
    with pytest.raises(InputError):
        sbom.read(random_named_xlsx)


def test_undecodable_csv_is_an_input_error_and_control_characters_go() -> None:
    with pytest.raises(InputError, match="neither UTF-8 nor Shift_JIS"):
        components.read_csv(b"name\n\x81\x00\xff\xfe\x80", CSV, ReadOptions())
    assert components.read_csv(b"name\nzl\x00ib\x1b\n", CSV, ReadOptions()).components[0].name == "zlib"


READERS = [
    (components.read_csv, CSV),
    (components.read_xlsx, XLSX),
    (spdx_lite.read_csv, CSV),
    (spdx_lite.read_xlsx, XLSX),
]
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_input_errors(data: bytes) -> None:
    for xlsx in (True, False):
        with contextlib.suppress(InputError):
            sniff_kind(data, XLSX if xlsx else CSV, xlsx=xlsx)
    for reader, path in READERS:
        with contextlib.suppress(InputError):
            reader(data, path, ReadOptions())


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_give_only_input_errors(data: bytes) -> None:
    only_input_errors(data)


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    out = bytearray(data)
    for position, value in edits:
        out[position % len(out)] = value
    return bytes(out[: max(1, len(out) - cut)])


@FUZZ
@given(
    st.sampled_from(["lite.xlsx", "vendor.xlsx", "lite.csv", "vendor.csv"]),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
    st.integers(0, 64),
)
def test_mutated_fixtures_give_only_input_errors(which: str, edits: list[tuple[int, int]], cut: int) -> None:
    source = {
        "lite.xlsx": _LITE_XLSX,
        "vendor.xlsx": _VENDOR_XLSX,
        "lite.csv": spdx_lite.write_csv(spdx_lite.read_xlsx(_LITE_XLSX, XLSX, ReadOptions()), None),
        "vendor.csv": VENDOR_CSV.encode("cp932"),
    }[which]
    only_input_errors(mutate(source, edits, cut))


def rezip(data: bytes, member_index: int, edits: list[tuple[int, int]], cut: int) -> bytes:
    """The workbook with one part (sheet XML, shared strings, workbook.xml ...) damaged but a valid zip."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    target = names[member_index % len(names)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name in names:
            part = source.read(name)
            out.writestr(name, mutate(part, edits, cut) if name == target and part else part)
    return buffer.getvalue()


@FUZZ
@given(
    st.sampled_from(["lite.xlsx", "vendor.xlsx"]),
    st.integers(min_value=0),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 64),
)
def test_damaged_parts_inside_a_valid_zip_give_only_input_errors(
    which: str, member: int, edits: list[tuple[int, int]], cut: int
) -> None:
    source = _LITE_XLSX if which == "lite.xlsx" else _VENDOR_XLSX
    only_input_errors(rezip(source, member, edits, cut))


_LITE_XLSX = lite_workbook()
_VENDOR_XLSX = vendor_workbook()
