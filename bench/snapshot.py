"""The route from the demo to real data, measured: a full ``mamori db sync`` against a loopback server,
and a knowledge-base snapshot against importing the same data from files.

1. ``sync``: a loopback server (tests/vulndb_server.py, the one the sync tests use) serves real-format
   dumps built from ../shared/data: OSV's ecosystems.txt and one all.zip per ecosystem (every PyPI
   advisory and the misc records), NVD API pages, MyJVN answers, the KEV catalog, an EPSS csv.gz and a
   purl2cpe repository archive of the whole shared TSV. ``mamori db sync`` with no arguments fills a
   fresh store; a second one is incremental. Seconds and records per source.
2. ``snapshot``: a store holding all the shared data (OSV pypi + misc, CVE 5, NVD, JVN, KEV, purl2cpe)
   is made by importing the files (timed), exported to a snapshot (timed, file size) and imported
   into a fresh store (timed). Median, min and max of ``--repeat`` runs (every run listed too), on
   SQLite and, with ``--pg`` (or MAMORI_TEST_PG_URL), on throw-away PostgreSQL databases.

No peer: mamori's own costs, in this process. Warm-up: none for ``snapshot`` besides importing
jsonschema beforehand; the first run reads ../shared/data possibly from disk, later ones from the page
cache, so the first run is slower (see ``runs``). ``sync`` runs once each: the second is the
incremental case, not a repeat of the first.

Usage: .venv/bin/python bench/snapshot.py [--pg URL] [--repeat N] [--only sync|snapshot]
Prints one JSON object; not run by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from process_timing import summary  # noqa: E402

DATA = Path(os.environ.get("MAMORI_SHARED_DATA", REPO.parent / "shared" / "data"))
INPUTS = [
    DATA / "osv" / "pypi",
    DATA / "osv" / "misc",
    DATA / "cve5",
    DATA / "nvd",
    DATA / "jvn",
    DATA / "kev" / "known_exploited_vulnerabilities.json",
    DATA / "purl2cpe" / "purl2cpe.tsv",
]


def full_sync(folder: Path) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "tests"))
    from contextlib import redirect_stdout

    from kb_support import service_env
    from mamori.cli.main import main
    from mamori.store import open_store
    from vulndb_server import Server, Services

    misc = tuple(sorted((DATA / "osv" / "misc").glob("*.json")))
    services = Services(DATA, DATA / "osv" / "pypi", osv_more=misc, purl2cpe_rows=None)
    out: dict[str, Any] = {"exports": {k: len(v) for k, v in services.exported.items()}}
    with Server(services) as server:
        os.environ.update(service_env(server))
        db = str(folder / "sync.db")
        for run in ("first", "second"):
            capture = folder / f"{run}.json"
            started = time.perf_counter()
            with capture.open("w") as fh, redirect_stdout(fh):
                code = main(["db", "sync", "--db", db, "--format", "json"])
            seconds = time.perf_counter() - started
            result = json.loads(capture.read_text())
            out[run] = {
                "exit_code": code,
                "seconds": round(seconds, 2),
                "sources": {
                    name: {
                        "seconds": s["seconds"],
                        "read": s["counts"]["read"],
                        "new": s["counts"]["new"],
                        "unchanged": s["counts"]["unchanged"],
                        "not_modified": s["not_modified"],
                        "complete": sum(len(c["scopes"]) for c in s["complete"]),
                    }
                    for name, s in result["sources"].items()
                },
            }
        with open_store(db) as store:
            status = store.status()
    out["records"] = {k: v["records"] for k, v in status["sources"].items()}
    out["vulnerabilities"] = status["vulnerabilities"]
    return out


def _fresh(kind: str, folder: Path, name: str, pg: str | None) -> str:
    if kind == "sqlite":
        path = folder / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return str(path)
    from mamori.store.throwaway import reset

    assert pg is not None
    reset(pg)
    return pg


def snapshots(kind: str, folder: Path, pg: str | None, repeat: int) -> dict[str, Any]:
    import jsonschema  # noqa: F401 - imported once, outside the timings (about a second)

    from mamori.store import open_store
    from mamori.store.snapshot import export_snapshot, import_snapshot
    from mamori.vulndb import import_path

    files, exports, imports, sizes, rows = [], [], [], [], 0
    for _ in range(repeat):
        url = _fresh(kind, folder, "files", pg)
        with open_store(url) as store:
            started = time.perf_counter()
            for path in INPUTS:
                import_path(store, path)
            files.append(time.perf_counter() - started)
            status = store.status()
            started = time.perf_counter()
            info = export_snapshot(store, folder / "kb.zip")
            exports.append(time.perf_counter() - started)
        sizes.append(info.size)
        rows = info.rows
        target = _fresh(kind, folder, "target", pg)  # PostgreSQL: the same database, emptied
        with open_store(target) as store:
            started = time.perf_counter()
            import_snapshot(store, folder / "kb.zip")
            imports.append(time.perf_counter() - started)
            assert store.status()["vulnerabilities"] == status["vulnerabilities"]
    return {
        "backend": kind,
        "records": {k: v["records"] for k, v in status["sources"].items()},
        "rows": rows,
        "database_bytes": status["size_bytes"],
        "import_files_seconds": round(statistics.median(files), 2),
        "export_seconds": round(statistics.median(exports), 2),
        "snapshot_bytes": statistics.median(sizes),
        "import_snapshot_seconds": round(statistics.median(imports), 2),
        "import_files": summary(files, 2),
        "export": summary(exports, 2),
        "import_snapshot": summary(imports, 2),
        "runs": {
            "files": [round(x, 2) for x in files],
            "export": [round(x, 2) for x in exports],
            "import": [round(x, 2) for x in imports],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default=os.environ.get("MAMORI_TEST_PG_URL"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("sync", "snapshot"))
    args = parser.parse_args()
    result: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "warm_up": "none (jsonschema imported before the timings); the first snapshot run may read "
        "../shared/data from disk, later runs from the page cache",
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only in (None, "sync"):
            result["sync"] = full_sync(folder)
        if args.only in (None, "snapshot"):
            result["snapshot"] = [snapshots("sqlite", folder, None, args.repeat)]
            if args.pg:
                from mamori.store.throwaway import throwaway_postgres

                with throwaway_postgres(args.pg, prefix="mamori_bench") as pg:
                    result["snapshot"].append(snapshots("postgresql", folder, pg, args.repeat))
    result["load_average_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
