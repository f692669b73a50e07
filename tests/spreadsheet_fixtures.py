"""Spreadsheet fixtures built with openpyxl: a Japanese vendor component list and an SPDX Lite workbook.

The packages are real projects with their real licences; hashes are computed from a stated text so that they
are well-formed, not taken from any release.
"""

from __future__ import annotations

import hashlib
import io

import openpyxl

Rows = list[list[object]]

LINUX_SHA256 = hashlib.sha256(b"linux-5.15.148.tar.xz").hexdigest()
OPENSSL_SHA1 = hashlib.sha1(b"openssl-3.0.13.tar.gz").hexdigest()

# fmt: off
VENDOR_TITLE = "ソフトウェア部品表（SBOM） 製品：車載ECU-X 2024年3月版"
VENDOR_HEADER = ["項番", "部品名", "版", "仕入先", "ライセンス", "パッケージURL", "CPE", "SHA-256", "ハッシュ", "種別",
                 "依存先", "備考"]
VENDOR_ROWS: Rows = [
    [1, "linux", "5.15.148", "The Linux Foundation", "GPL-2.0-only WITH Linux-syscall-note",
     "pkg:generic/linux@5.15.148", "cpe:2.3:o:linux:linux_kernel:5.15.148:*:*:*:*:*:*:*", LINUX_SHA256, None,
     "OS", None, None],
    [2, "busybox", "1.36.1", "BusyBox", "GPLv2", "pkg:generic/busybox@1.36.1",
     "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*", None, None, "アプリケーション", "linux", None],
    [3, "openssl", "3.0.13", "OpenSSL Software Foundation", "Apache License 2.0", "pkg:generic/openssl@3.0.13",
     "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*", None, f"sha1:{OPENSSL_SHA1}", "ライブラリ", None, "静的リンク"],
    [4, "zlib", "1.3.1", "Jean-loup Gailly, Mark Adler", "zlib License", None, None, None, None, "ライブラリ", None, None],
    [5, "can-driver", "2.4.0", "株式会社サンプル電装", "独自ライセンス", None, None, None, None, "ライブラリ",
     "openssl; zlib\npkg:generic/busybox@1.36.1", "自社開発"],
    [6, None, "1.0", "不明な仕入先", None, None, None, None, None, None, None, "名称記入漏れ"],
]
# fmt: on


def workbook_bytes(sheets: dict[str, Rows]) -> bytes:
    """An XLSX file with the given sheets (name -> rows), in order."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def vendor_workbook() -> bytes:
    """A cover sheet, then the list: a title row and an author row above the header, a blank row between."""
    cover = [["納入仕様書 別紙"], ["本ブックは車載ECU-Xに含まれるソフトウェアの一覧です。"]]
    parts = [[VENDOR_TITLE], ["作成：株式会社サンプル電装"], [], VENDOR_HEADER, *VENDOR_ROWS]
    return workbook_bytes({"表紙": cover, "部品表": parts})


def lite_workbook() -> bytes:
    """SPDX Lite the way people fill the OpenChain Japan template: Japanese labels, a vertical document sheet."""
    # fmt: off
    document = [
        ["項目", "値"],
        ["SPDXバージョン", "SPDX-2.3"],
        ["データライセンス", "CC0-1.0"],
        ["SPDX識別子", "SPDXRef-DOCUMENT"],
        ["ドキュメント名", "ECU-X-SPDX-Lite"],
        ["SPDXドキュメント名前空間", "https://example.com/spdxdocs/ecu-x-2024-03"],
        ["作成者", "Organization: 株式会社サンプル電装 (oss@sample-denso.example)\nTool: excel-manual"],
        ["作成日時", "2024-03-01T09:00:00Z"],
    ]
    packages = [
        ["パッケージ名", "パッケージSPDX識別子", "パッケージバージョン", "パッケージファイル名", "パッケージサプライヤ",
         "パッケージダウンロード位置", "ファイル解析", "パッケージホームページ", "結論ライセンス", "宣言ライセンス",
         "ライセンスに関するコメント", "著作権表示", "パッケージに関するコメント", "外部参照"],
        ["busybox", "SPDXRef-1", "1.36.1", "busybox-1.36.1.tar.bz2", "Organization: BusyBox",
         "https://busybox.net/downloads/busybox-1.36.1.tar.bz2", "false", "https://busybox.net/", "GPL-2.0-only",
         "GPL-2.0-only", "NOASSERTION", "NOASSERTION", "ModificationRecord: false",
         "PACKAGE-MANAGER purl pkg:generic/busybox@1.36.1\n"
         "SECURITY cpe23Type cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*"],
        ["can-driver", "SPDXRef-2", "2.4.0", None, "Organization: 株式会社サンプル電装", "NONE", "false", None,
         "LicenseRef-sample-denso", "LicenseRef-sample-denso", "自社ライセンス", "Copyright 2024 株式会社サンプル電装",
         "ModificationRecord: true\nLinkMethodology: Static", None],
    ]
    licenses = [
        ["ライセンス識別子", "ライセンス本文", "ライセンス名", "ライセンスコメント"],
        ["LicenseRef-sample-denso", "本ソフトウェアは契約の範囲でのみ利用できます。", "サンプル電装ソフトウェア使用許諾",
         "契約書第5条"],
    ]
    # fmt: on
    return workbook_bytes({"文書情報": document, "パッケージ情報": packages, "ライセンス情報": licenses})


def xlsx_bomb(rows: int, data: Rows) -> bytes:
    """A workbook whose sheet holds ``data`` then ``rows`` empty rows and no dimension: small zipped, long to
    walk (a reader that trusts it parses every row)."""
    import re
    import zipfile

    book = openpyxl.Workbook()
    for row in data:
        book.active.append(row)
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            part = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                head, _, tail = part.partition(b"</sheetData>")
                head = re.sub(rb"<dimension [^>]*/>", b"", head)
                part = head + b"<row><c/></row>" * rows + b"</sheetData>" + tail
            archive.writestr(info.filename, part)
    return out.getvalue()
