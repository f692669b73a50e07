"""Row identity of an import: the same input imported into two brand-new SQLite stores, by this
mamori and by another mamori's source tree (``--baseline SRC``, e.g. an older release's ``src``),
then every table of both stores dumped in a fixed order and compared.

How to run (from the repository root)::

    .venv/bin/python bench/import_rows.py --baseline OTHER/src            # every dataset of bench/import.py
    .venv/bin/python bench/import_rows.py --baseline OTHER/src --dataset cve5

Each import is ``mamori db import PATH --db NEW.db`` in a fresh process, as bench/import.py runs it.
Columns that hold the time of the import (``source_state.updated_at``, ``coverage.partial_at`` and
``complete_at``) and the random mark each write transaction leaves (``knowledge_change.token``) are left
out of the comparison; every other column of every row counts, the stored
documents (compressed JSON) byte for byte. Prints one JSON object: per dataset and table, the rows of
each side and whether they are identical (with a digest of the dump); exit 1 when any table differs.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("import_bench", REPO / "bench" / "import.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

CLOCK_COLUMNS = {
    "source_state": {"updated_at"},
    "coverage": {"partial_at", "complete_at"},
    "knowledge_change": {"token"},  # not a clock: a random mark of each write transaction (its keys count)
}


def dump(db: Path) -> dict[str, tuple[int, str]]:
    """Every table: its row count and a digest of its rows (clock columns left out), rows sorted."""
    out: dict[str, tuple[int, str]] = {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for table in tables:
            columns = [
                r[1]
                for r in conn.execute(f'PRAGMA table_info("{table}")')
                if r[1] not in CLOCK_COLUMNS.get(table, ())
            ]
            names = ", ".join(f'"{c}"' for c in columns)
            rows = sorted(conn.execute(f'SELECT {names} FROM "{table}"').fetchall(), key=repr)
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(row).encode())
            out[table] = (len(rows), digest.hexdigest()[:16])
    finally:
        conn.close()
    return out


def imported(source: str, src: str | None, tmp: str, name: str) -> dict[str, tuple[int, str]]:
    db = Path(tmp) / f"{name}.db"
    cmd = [
        sys.executable,
        "-c",
        bench.MAMORI_MAIN,
        "db",
        "import",
        source,
        "--db",
        str(db),
        "--format",
        "json",
    ]
    subprocess.run(cmd, check=True, capture_output=True, env=bench._env(src))
    return dump(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="SRC", required=True, help="another mamori's src folder")
    parser.add_argument(
        "--dataset", choices=sorted(bench.DATASETS), action="append", help="only these (repeatable)"
    )
    args = parser.parse_args()
    result: dict[str, Any] = {}
    same = True
    for dataset in args.dataset or bench.DATASETS:
        with tempfile.TemporaryDirectory() as tmp:
            source = bench._input(dataset, tmp)
            ours, theirs = (
                imported(source, None, tmp, "mamori"),
                imported(source, args.baseline, tmp, "baseline"),
            )
        tables = {}
        for table in sorted(set(ours) | set(theirs)):
            a, b = ours.get(table), theirs.get(table)
            tables[table] = {
                "rows": a[0] if a else None,
                "baseline_rows": b[0] if b else None,
                "identical": a == b,
            }
            tables[table]["digest"] = a[1] if a else None
            same &= a == b
        result[dataset] = {"identical": all(t["identical"] for t in tables.values()), "tables": tables}
    print(json.dumps({"identical": same, "datasets": result}, indent=2))
    raise SystemExit(0 if same else 1)


if __name__ == "__main__":
    main()
