"""Spreadsheet reading/writing speed: a generated vendor list of N rows as XLSX and cp932 CSV, and SPDX Lite.

Usage: .venv/bin/python bench/spreadsheet.py [rows] [--repeat 5]   (prints one JSON object; not run by pytest)
The rows are synthetic (name-N / 1.N.0 / MIT or GPLv2 ...); only their number and shape matter here.
In-process, no peer (mamori's own cost per step). Every step: one untimed warm-up call (imports, first-use
caches), then ``--repeat`` timed calls; median, min and max in seconds. The inputs are built in memory
(no file system cache involved).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import openpyxl

from mamori.sbom.formats import ReadOptions
from mamori.sbom.spreadsheet import components, sniff_kind, spdx_lite

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_timing import machine, summary

HEADER = ["項番", "部品名", "版", "仕入先", "ライセンス", "パッケージURL", "依存先", "備考"]
T = TypeVar("T")
LICENSES = ["MIT", "GPLv2", "Apache 2.0", "BSD-3-Clause", "独自ライセンス"]


def rows(count: int) -> list[list[object]]:
    out: list[list[object]] = []
    for i in range(count):
        dep = f"lib{i - 1}" if i else None
        purl = f"pkg:generic/lib{i}@1.{i}.0"
        out.append(
            [i + 1, f"lib{i}", f"1.{i}.0", f"Vendor {i % 50}", LICENSES[i % 5], purl, dep, "静的リンク"]
        )
    return out


def timed(
    label: str,
    results: dict[str, dict[str, object]],
    repeat: int,
    func: Callable[..., T],
    *args: object,
    **kwargs: object,
) -> T:
    value = func(*args, **kwargs)  # warm-up, untimed
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        value = func(*args, **kwargs)
        times.append(time.perf_counter() - start)
    results[label] = summary(times)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    count, repeat = args.rows, args.repeat
    body = rows(count)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["部品表（ベンチマーク用）"])
    sheet.append(HEADER)
    for row in body:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = buffer.getvalue()
    csv = ("\r\n".join(",".join("" if c is None else str(c) for c in r) for r in [HEADER, *body])).encode(
        "cp932"
    )
    seconds: dict[str, dict[str, object]] = {}
    xlsx_path, csv_path = Path("bench.xlsx"), Path("bench.csv")
    timed("sniff_xlsx", seconds, repeat, sniff_kind, xlsx, xlsx_path, xlsx=True)
    doc = timed("read_vendor_xlsx", seconds, repeat, components.read_xlsx, xlsx, xlsx_path, ReadOptions())
    timed("read_vendor_csv_cp932", seconds, repeat, components.read_csv, csv, csv_path, ReadOptions())
    lite_xlsx = timed("write_lite_xlsx", seconds, repeat, spdx_lite.write_xlsx, doc, None)
    lite_csv = timed("write_lite_csv", seconds, repeat, spdx_lite.write_csv, doc, None)
    timed("read_lite_xlsx", seconds, repeat, spdx_lite.read_xlsx, lite_xlsx, xlsx_path, ReadOptions())
    timed("read_lite_csv", seconds, repeat, spdx_lite.read_csv, lite_csv, csv_path, ReadOptions())
    print(
        json.dumps(
            {
                "machine": machine(),
                "runs": repeat,
                "warm_up": "one untimed call per step",
                "rows": count,
                "components": len(doc.components),
                "dependencies": len(doc.relationships),
                "bytes": {
                    "vendor_xlsx": len(xlsx),
                    "vendor_csv": len(csv),
                    "lite_xlsx": len(lite_xlsx),
                    "lite_csv": len(lite_csv),
                },
                "seconds": seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
