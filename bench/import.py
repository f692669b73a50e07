"""Knowledge-base import speed: records/s, CPU, peak RSS and bytes per record.

Imports ../shared/data/osv/pypi (2,661 OSV YAML advisories) and ../shared/data/cve5 (8,127 CVE 5 records)
each into a fresh SQLite file and, when a server URL is given (``--pg`` or MAMORI_TEST_PG_URL), into a
throw-away PostgreSQL database. Every run is its own process, so its peak RSS is its own.

OSV YAML is decoded by worker processes (``MAMORI_IMPORT_WORKERS``, default one per CPU up to four):
``--workers 0`` measures the single-process import. CPU seconds count the workers too.

``osv-pypi-json-zip`` is the same 2,661 advisories as osv.dev publishes them (JSON members of one
``all.zip``), written to a temporary zip before timing: what ``mamori db sync --source osv`` reads.

Peer: AppThreat's vulnerability-db (``vdb``, the store behind OWASP dep-scan; ``pip install -e '.[bench]'``)
imports the same ``all.zip`` into its SQLite store through its own OSV source (``OSVSource.fetch``, served
from a loopback HTTP server, as it downloads osv.dev's zips), timed the same way in the same kind of child
process. It does different work per record: it converts OSV to CVE 5 and keeps one row per CVE (it drops
PYSEC records that repeat a GHSA), where mamori keeps every record whole, merges them by alias and
indexes their packages; both read and store every record of the input, so records/s compare the two.

Machines differ: ``reference_seconds`` (a fixed pure-Python loop, best of 3) is printed beside the
figures so runs on different machines can be compared.

Usage: .venv/bin/python bench/import.py [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
       [--repeat N] [--workers N] [--dataset osv-pypi|cve5 ...]
Prints one JSON object; not run by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MAMORI_SHARED_DATA", REPO.parent / "shared" / "data"))
DATASETS = {
    "osv-pypi": DATA / "osv" / "pypi",
    "cve5": DATA / "cve5",
    "osv-pypi-json-zip": DATA / "osv" / "pypi",
}
PEER_DATASETS = {"osv-pypi-json-zip"}  # vulnerability-db reads osv.dev's JSON zips only


def reference_seconds() -> float:
    """How fast this machine runs plain Python: 10 million additions in a loop, best of 3."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def json_zip(folder: Path, target: Path) -> Path:
    """The YAML advisories as one zip of JSON records, named by id as in osv.dev's all.zip."""
    import zipfile

    import orjson

    from mamori.vulndb import osv

    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*.yaml")):
            doc = osv.load_yaml(path.read_bytes())
            archive.writestr(f"{doc['id']}.json", orjson.dumps(doc))
    return target


def _input(dataset: str, tmp: str) -> str:
    if dataset == "osv-pypi-json-zip":
        return str(json_zip(DATASETS[dataset], Path(tmp) / "all.zip"))
    return str(DATASETS[dataset])


def one_run(dataset: str, url: str, source: str) -> dict[str, object]:
    """Runs inside the child process: import, then measure."""
    from mamori.store import open_store
    from mamori.vulndb import import_path

    with open_store(url) as store:
        empty = store.status()["size_bytes"]  # the schema alone (and PostgreSQL's catalog)
        cpu, wall = time.process_time(), time.perf_counter()
        summary = import_path(store, source)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers_cpu = children.ru_utime + children.ru_stime  # the pool has been joined by now
        status = store.status()
    records = summary.records
    size = (Path(url).stat().st_size if "://" not in url else status["size_bytes"]) - empty
    return {
        "dataset": dataset,
        "backend": status["backend"],
        "records": records,
        "vulnerabilities": status["vulnerabilities"],
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu + workers_cpu, 3),
        "main_process_cpu_seconds": round(cpu, 3),
        "workers": os.environ.get("MAMORI_IMPORT_WORKERS", "default"),
        "records_per_second": round(records / wall),
        "records_per_cpu_second": round(records / (cpu + workers_cpu)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_peak_rss_mb": round(children.ru_maxrss / 1024, 1),  # the largest worker process
        "added_bytes": size,
        "bytes_per_record": round(size / records),
    }


def peer_run(dataset: str, folder: str, source: str) -> dict[str, object]:
    """Runs inside the child process: vulnerability-db imports the zip from a loopback server."""
    import functools
    import http.server
    import threading
    import zipfile
    from importlib.metadata import version

    os.environ["VDB_HOME"], os.environ["VDB_CACHE"] = f"{folder}/vdb", f"{folder}/cache"
    try:
        from vdb.lib.osv import OSVSource  # reads VDB_HOME when imported
    except ImportError:
        return {"dataset": dataset, "peer": "vulnerability-db not installed: pip install -e '.[bench]'"}

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    zip_path = Path(source)
    handler = functools.partial(Quiet, directory=str(zip_path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{zip_path.name}"
    with zipfile.ZipFile(zip_path) as archive:
        records = sum(1 for name in archive.namelist() if name.endswith(".json"))
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        peer = OSVSource()
        peer.fetch(url, store_results=True, feed_key="python")  # PyPI: no year floor
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        server.shutdown()
    size = sum(f.stat().st_size for f in Path(folder, "vdb").iterdir())
    return {
        "dataset": dataset,
        "peer": "vulnerability-db " + version("appthreat-vulnerability-db"),
        "backend": "sqlite",
        "records": records,
        "rows_stored": peer._stored_cve_count,
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "records_per_second": round(records / wall),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "added_bytes": size,
        "bytes_per_record": round(size / records),
    }


def run_child(dataset: str, url: str, source: str, function: str = "one_run") -> dict[str, object]:
    code = (
        f"import json, sys; sys.path.insert(0, {str(REPO / 'bench')!r}); import importlib; "
        f"m = importlib.import_module('import'); "
        f"print(json.dumps(m.{function}({dataset!r}, {url!r}, {source!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _best_with_median(runs: list[dict[str, object]]) -> dict[str, object]:
    """The fastest run, with the median over all runs beside it (a shared machine's load varies)."""
    best = dict(min(runs, key=lambda r: r["seconds"]))
    middle = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    best["runs"] = len(runs)
    best["median_seconds"] = middle["seconds"]
    best["median_records_per_second"] = middle["records_per_second"]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("MAMORI_TEST_PG_URL"), help="PostgreSQL server URL")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per case; the fastest is reported, and the median"
    )
    parser.add_argument("--workers", help="MAMORI_IMPORT_WORKERS for the runs (0: a single process)")
    parser.add_argument(
        "--dataset", choices=sorted(DATASETS), action="append", help="only these (repeatable)"
    )
    args = parser.parse_args()
    if args.workers is not None:
        os.environ["MAMORI_IMPORT_WORKERS"] = args.workers
    results: list[dict[str, object]] = []
    peers: list[dict[str, object]] = []
    reference = reference_seconds()
    for dataset in args.dataset or DATASETS:
        with tempfile.TemporaryDirectory() as inputs:
            source = _input(dataset, inputs)
            runs = []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as tmp:
                    runs.append(run_child(dataset, str(Path(tmp) / "bench.db"), source))
            results.append(_best_with_median(runs))
            if dataset in PEER_DATASETS:
                runs = []
                for _ in range(args.repeat):
                    with tempfile.TemporaryDirectory() as tmp:
                        runs.append(run_child(dataset, tmp, source, "peer_run"))
                peer = _best_with_median(runs) if "seconds" in runs[0] else runs[0]
                if "seconds" in peer:
                    mine = results[-1]
                    peer["mamori_speedup_median"] = round(
                        float(peer["median_seconds"]) / float(mine["median_seconds"]), 2
                    )
                peers.append(peer)
            if args.pg:
                from mamori.store.throwaway import throwaway_postgres

                runs = []
                for _ in range(args.repeat):
                    with throwaway_postgres(args.pg, prefix="mamori_bench") as url:
                        runs.append(run_child(dataset, url, source))
                results.append(_best_with_median(runs))
    print(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg(),
                "reference_seconds": reference,
                "runs": results,
                "peers": peers,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
