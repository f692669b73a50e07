"""The scan table's cost: the default table (summary and the top 20 findings), the full table
(``--all``) and the JSON report of the same scan, in the same run.

1. Whole process (first): ``mamori scan SBOM`` three ways in fresh processes, stdout to a file (a pipe
   would be the same: not a terminal, no colours): ``table`` (default), ``table --all`` and
   ``-f json -o FILE``. Wall seconds and peak RSS, median with min/max over the same number of runs,
   the three commands taking turns in each round. No warm-up; the operating system's file cache is
   warm after the first run for all three alike.
2. In process, after one scan (not timed): the table printed to a file-backed console of 160 columns
   with colours off, every finding, laid out three ways: rich ``Table`` as the table was before
   (folding columns), rich ``Table`` with ``no_wrap`` columns, and the plain lines of
   :mod:`mamori.report.table`; plus the default (top 20) and the JSON report. Median with min/max of
   the same number of runs each.

Usage: .venv/bin/python bench/scan_table.py --db KB.db --sbom SBOM.cdx.json [--runs 5]
(a store and an SBOM as bench/scan.py builds them). Prints one JSON object; not run by pytest.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from process_timing import run

REPO = Path(__file__).resolve().parents[1]
MAMORI = str(Path(sys.executable).with_name("mamori"))


def _stats(values: list[float], digits: int = 3) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def whole_process(db: str, sbom: str, runs: int, folder: Path) -> dict[str, object]:
    base = [MAMORI, "scan", sbom, "--db", db, "--allow-partial"]
    commands = {
        "table": base,
        "table_all": [*base, "--all"],
        "json": [*base, "-f", "json", "-o", str(folder / "r.json")],
    }
    seconds: dict[str, list[float]] = {k: [] for k in commands}
    rss: dict[str, list[int]] = {k: [] for k in commands}
    lines: dict[str, int] = {}
    for _round in range(runs):  # the commands take turns, so that load changes hit all alike
        for name, cmd in commands.items():
            out = folder / f"{name}.out"
            wall, peak = run(cmd, out)
            seconds[name].append(wall)
            rss[name].append(peak)
            lines[name] = sum(1 for _line in out.open(encoding="utf-8"))
    out: dict[str, object] = {
        name: {
            "seconds": _stats(seconds[name]),
            "peak_rss_mib": _stats([float(v) for v in rss[name]], 0),
            "stdout_lines": lines[name],
        }
        for name in commands
    }
    json_median = statistics.median(seconds["json"])
    out["table_over_json"] = round(statistics.median(seconds["table"]) / json_median, 2)
    out["table_all_over_json"] = round(statistics.median(seconds["table_all"]) / json_median, 2)
    return out


def _rich_table(result, lang: str, console, no_wrap: bool) -> None:
    """The finding rows through rich's Table, as the table was laid out before (or with no_wrap)."""
    from rich.table import Table
    from rich.text import Text

    from mamori.report.messages import text
    from mamori.report.table import COLUMNS, cells, ordered

    table = Table(show_lines=False)
    for column in COLUMNS:
        keep = no_wrap or column in ("vulnerability", "version", "rating", "status")
        table.add_column(text(lang, "columns", column), overflow="fold", no_wrap=keep)
    for f in ordered(result):
        values, styles = cells(f, lang)
        table.add_row(*(Text(v, style=s) for v, s in zip(values, styles, strict=True)))
    console.print(table)


def in_process(db: str, sbom: str, runs: int) -> dict[str, object]:
    from rich.console import Console

    from mamori.match import Matcher
    from mamori.report import json_report
    from mamori.report.table import findings_text, ordered, print_result
    from mamori.scan.run import load_target, scan_document
    from mamori.store import open_store

    with open_store(db) as store:
        doc, fmt = load_target(Path(sbom))
        result = scan_document(doc, store, target=sbom, sbom_format=fmt, matcher=Matcher(store))

    def console() -> Console:
        return Console(file=io.StringIO(), width=160, color_system=None, force_terminal=False)

    cases: dict[str, Callable[[], object]] = {
        "rich_table_before": lambda: _rich_table(result, "en", console(), no_wrap=False),
        "rich_table_no_wrap": lambda: _rich_table(result, "en", console(), no_wrap=True),
        "plain_lines_all": lambda: console().print(findings_text(ordered(result), "en"), soft_wrap=True),
        "print_result_all": lambda: print_result(result, console(), "en", None),
        "print_result_top20": lambda: print_result(result, console(), "en", 20),
        "json_render": lambda: json_report.render(result, "en"),
    }
    seconds: dict[str, list[float]] = {k: [] for k in cases}
    for _round in range(runs):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            seconds[name].append(time.perf_counter() - start)
    return {"findings": len(result.findings), **{k: _stats(v) for k, v in seconds.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="an imported store")
    parser.add_argument("--sbom", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        processes = whole_process(args.db, args.sbom, args.runs, Path(tmp))
    print(
        json.dumps(
            {
                "sbom": args.sbom,
                "runs": args.runs,
                "statistic": "median (min, max) of the runs",
                "warm_up": "none; OS file cache warm after the first run, for every command alike",
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "whole_process": processes,
                "in_process_seconds": in_process(args.db, args.sbom, args.runs),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
