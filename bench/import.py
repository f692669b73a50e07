"""Knowledge-base import speed, whole process first: wall seconds, records/s and peak RSS of
``mamori db import PATH --db NEW.db`` as a fresh process, against AppThreat's vulnerability-db (``vdb``,
the store behind OWASP dep-scan) doing its whole import of the same records as a fresh process too.

How to run (from the repository root, with the bench extra installed: ``pip install -e '.[bench]'``)::

    .venv/bin/python bench/import.py                      # 5 runs per case, every dataset
    .venv/bin/python bench/import.py --repeat 7 --dataset osv-pypi-json-zip
    .venv/bin/python bench/import.py --baseline OTHER/src  # also an older mamori's src tree, same runs
    .venv/bin/python bench/import.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Prints one JSON object; not run by pytest. ``bench/import_rows.py --baseline OTHER/src`` checks that the
two sides store the same rows (every table, row by row).

Datasets (read in place from ``../shared/data``, or ``MAMORI_SHARED_DATA``):

- ``osv-pypi``: 2,662 OSV YAML advisories (a directory tree);
- ``cve5``: 8,127 CVE JSON 5 records (the cvelistV5 tree);
- ``osv-one-record``: one OSV YAML advisory (idna's PYSEC-2024-60): the fixed cost of an import
  (start-up, the new store, the summary), what every import pays before its records;
- ``osv-pypi-json-zip``: the same PyPI advisories as osv.dev publishes them (JSON members of one
  ``all.zip``), written to a temporary zip ONCE, before any timing: the input both sides read.

Whole process (``whole_process``): every run is a new process started from nothing (interpreter start-up,
imports, a brand-new store: SQLite file or PostgreSQL database created empty for the run, so the schema
set-up is included) and timed from spawn to exit by the parent; peak RSS is the largest process of the
run (``wait4``; mamori's decoding workers included), and CPU seconds (``cpu_seconds``: user + system of
the process and of the workers it waited for; on a loaded machine they vary far less than wall time).
Both sides run the SAME number of runs (``--repeat``, default 5), alternated (mamori, peer, mamori,
peer...) so load changes hit both alike, and report the median with min and max. Records/s = records read from the input / median wall seconds.

- mamori: ``python -c 'from mamori.cli.main import run; run()' db import PATH --db NEW --format json``
  (``--output text``: without ``--format json``, the default text summary, records counted from it;
  stdout and stderr are files, not a terminal, in both);
- vulnerability-db: a child process that imports ``vdb`` (with ``VDB_HOME`` set to a new, empty folder)
  and runs its OSV source (``OSVSource().fetch(url, store_results=True)``) on the zip, which the bench's
  own process serves from a loopback HTTP server started before timing (vdb only reads osv.dev's zips
  by URL). vdb converts OSV to CVE 5 and keeps one row per CVE (it drops PYSEC records that repeat a
  GHSA), where mamori keeps every record whole, merges them by alias and indexes their packages; both
  read and store every record of the input. vdb reads no OSV YAML and no CVE 5 tree: no peer for those.

Warm-up and caches, stated: nothing is run before timing except writing the zip (which also reads every
input file, so the OS file cache holds the inputs from the first timed run on; runs are not
cache-cold); mamori's bytecode caches (``.pyc``) are written before timing, as ``pip install`` writes them.

In-process (``in_process``): the same imports timed inside a child process after its start-up and
imports and after the store was opened (mamori: ``import_path``; vdb: ``OSVSource.fetch``), with CPU
seconds (decoding workers included), the same number of runs and statistics.

A shared machine's load varies: the load average is printed before and after, and ``reference_seconds``
(a fixed pure-Python loop, best of 3) so machines can be compared.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MAMORI_SHARED_DATA", REPO.parent / "shared" / "data"))
DATASETS = {
    "osv-pypi": DATA / "osv" / "pypi",
    "cve5": DATA / "cve5",
    "osv-pypi-json-zip": DATA / "osv" / "pypi",
    "osv-one-record": DATA / "osv" / "pypi" / "idna" / "PYSEC-2024-60.yaml",
}
PEER_DATASETS = {"osv-pypi-json-zip"}  # vulnerability-db reads osv.dev's JSON zips only
MAMORI_MAIN = "import sys; sys.argv[0] = 'mamori'; from mamori.cli.main import run; run()"


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


def _env(src: str | None) -> dict[str, str]:
    """The environment of a measured process: this one's, without PYTHONDONTWRITEBYTECODE (an installed
    mamori writes its caches: bytecode and data-class code, on its first run), and ``src`` first on the path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if src:  # another mamori's source tree (a baseline), ahead of the installed one
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _spawn(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS (MiB, the largest process of the run) and CPU seconds (user + system, of the
    process and the worker processes it waited for) of one fresh process, and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code != 0:
            raise SystemExit(f"{cmd[:6]} failed ({code}): {err.read().decode(errors='replace')[-2000:]}")
        return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, out.read().decode()


def _stats(values: list[float], digits: int = 3) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def _summary(records: int, walls: list[float], rss: list[float]) -> dict[str, Any]:
    median = statistics.median(walls)
    return {
        "records": records,
        "runs": len(walls),
        "seconds": _stats(walls),
        "records_per_second": {
            "median": round(records / median),
            "min": round(records / max(walls)),
            "max": round(records / min(walls)),
        },
        "peak_rss_mib": _stats(rss, 1),
    }


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _serve(zip_path: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The zip on a loopback HTTP server in this (the bench's) process, for vdb to download."""
    handler = functools.partial(_Quiet, directory=str(zip_path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/{zip_path.name}"


def _zip_records(zip_path: str) -> int:
    import zipfile

    with zipfile.ZipFile(zip_path) as archive:
        return sum(1 for name in archive.namelist() if name.endswith(".json"))


PEER_WHOLE = """
import os, sys
os.environ["VDB_HOME"], os.environ["VDB_CACHE"] = sys.argv[1] + "/vdb", sys.argv[1] + "/cache"
from vdb.lib.osv import OSVSource
OSVSource().fetch(sys.argv[2], store_results=True, feed_key="python")
"""


def peer_available() -> bool:
    try:
        import vdb  # noqa: F401
    except ImportError:
        return False
    return True


def _new_store(tmp: str, pg: str | None) -> Any:
    """A context manager giving the URL (or path) of a brand-new, empty store."""
    import contextlib

    if pg:
        from mamori.store.throwaway import throwaway_postgres

        return throwaway_postgres(pg, prefix="mamori_bench")
    return contextlib.nullcontext(str(Path(tmp) / f"bench-{time.monotonic_ns()}.db"))


def whole_process(
    dataset: str, source: str, repeat: int, pg: str | None, baseline: str | None, output: str = "json"
) -> dict[str, Any]:
    """mamori (and, for the zip, vulnerability-db; and an optional baseline mamori), alternated run by run."""
    sides: dict[str, Callable[[str], tuple[float, float, float, int]]] = {}

    def mamori(src: str | None) -> Callable[[str], tuple[float, float, float, int]]:
        def one(tmp: str) -> tuple[float, float, float, int]:
            with _new_store(tmp, pg) as db:
                cmd = [
                    sys.executable,
                    "-c",
                    MAMORI_MAIN,
                    "db",
                    "import",
                    source,
                    "--db",
                    db,
                    *(["--format", "json"] if output == "json" else []),
                ]
                wall, rss, cpu, out = _spawn(cmd, _env(src))
            if output == "json":
                counts = json.loads(out)["sources"]
                return wall, rss, cpu, sum(c["read"] for c in counts.values())
            read = [int(n) for n in re.findall(r"^\w+: (\d+) ", out, re.MULTILINE)]
            if not read:
                raise SystemExit(f"no record counts in mamori's text output: {out[:500]!r}")
            return wall, rss, cpu, sum(read)

        return one

    sides["mamori"] = mamori(None)
    if baseline:
        sides["mamori_baseline"] = mamori(baseline)
    server = None
    if dataset in PEER_DATASETS and not pg and peer_available():
        server, url = _serve(Path(source))
        records = _zip_records(source)

        def peer(tmp: str) -> tuple[float, float, float, int]:
            wall, rss, cpu, _out = _spawn([sys.executable, "-c", PEER_WHOLE, tmp, url], _env(None))
            return wall, rss, cpu, records

        sides["vulnerability-db"] = peer
    try:
        results: dict[str, dict[str, list[Any]]] = {
            name: {"wall": [], "rss": [], "cpu": [], "records": []} for name in sides
        }
        for _ in range(repeat):
            for name, one in sides.items():
                with tempfile.TemporaryDirectory() as tmp:
                    wall, rss, cpu, records = one(tmp)
                results[name]["wall"].append(wall)
                results[name]["rss"].append(rss)
                results[name]["cpu"].append(cpu)
                results[name]["records"].append(records)
    finally:
        if server is not None:
            server.shutdown()
    out = {
        name: _summary(max(r["records"]), r["wall"], r["rss"])
        | {"cpu_seconds": _stats(r["cpu"]), "backend": "postgresql" if pg else "sqlite"}
        for name, r in results.items()
    }
    if "vulnerability-db" in out:
        from importlib.metadata import version

        out["vulnerability-db"]["version"] = version("appthreat-vulnerability-db")
        out["mamori_speedup_median"] = round(
            out["vulnerability-db"]["seconds"]["median"] / out["mamori"]["seconds"]["median"], 2
        )
    return out


def one_run(dataset: str, url: str, source: str) -> dict[str, object]:
    """Runs inside the child process: open a new store, then time the import alone."""
    import mamori.store.writer  # noqa: F401  (what the import writes with: loaded before timing, as the rest)
    from mamori.store import open_store
    from mamori.vulndb import import_path

    with open_store(url) as store:
        cpu, wall = time.process_time(), time.perf_counter()
        summary = import_path(store, source)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "records": summary.records,
        "seconds": wall,
        "cpu_seconds": cpu + children.ru_utime + children.ru_stime,  # the pool has been joined by now
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def peer_run(dataset: str, folder: str, url: str) -> dict[str, object]:
    """Runs inside the child process: vulnerability-db imports the zip from the bench's loopback server."""
    os.environ["VDB_HOME"], os.environ["VDB_CACHE"] = f"{folder}/vdb", f"{folder}/cache"
    from vdb.lib.osv import OSVSource  # reads VDB_HOME when imported

    cpu, wall = time.process_time(), time.perf_counter()
    peer = OSVSource()
    peer.fetch(url, store_results=True, feed_key="python")  # PyPI: no year floor
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "records": 0,
        "rows_stored": peer._stored_cve_count,
        "seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(function: str, dataset: str, target: str, source: str, src: str | None) -> dict[str, Any]:
    code = (
        f"import json, sys; sys.path.insert(0, {str(REPO / 'bench')!r}); import importlib; "
        f"m = importlib.import_module('import'); "
        f"print(json.dumps(m.{function}({dataset!r}, {target!r}, {source!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=_env(src)
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def in_process(
    dataset: str, source: str, repeat: int, pg: str | None, baseline: str | None
) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"mamori": []}
    if baseline:
        runs["mamori_baseline"] = []
    server = None
    if dataset in PEER_DATASETS and not pg and peer_available():
        server, url = _serve(Path(source))
        runs["vulnerability-db"] = []
        records = _zip_records(source)
    try:
        for _ in range(repeat):
            for name in runs:
                with tempfile.TemporaryDirectory() as tmp:
                    if name == "vulnerability-db":
                        run = _child("peer_run", dataset, tmp, url, None)
                        run["records"] = records
                    else:
                        with _new_store(tmp, pg) as db:
                            src = baseline if name == "mamori_baseline" else None
                            run = _child("one_run", dataset, db, source, src)
                runs[name].append(run)
    finally:
        if server is not None:
            server.shutdown()
    out: dict[str, Any] = {}
    for name, items in runs.items():
        walls = [float(r["seconds"]) for r in items]
        out[name] = _summary(int(items[0]["records"]), walls, [float(r["peak_rss_mib"]) for r in items])
        out[name]["cpu_seconds"] = _stats([float(r["cpu_seconds"]) for r in items])
        if "rows_stored" in items[0]:
            out[name]["rows_stored"] = items[0]["rows_stored"]
    return out


def _compile(baseline: str | None) -> None:
    """Bytecode caches for mamori's modules (and the baseline's), written before timing as ``pip install``
    writes them for an installed package: an editable install under PYTHONDONTWRITEBYTECODE would
    otherwise compile every module in every run."""
    import compileall

    import mamori

    for folder in [Path(mamori.__file__).parent, *([Path(baseline) / "mamori"] if baseline else [])]:
        compileall.compile_dir(str(folder), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL: mamori's runs also into new databases there")
    parser.add_argument("--repeat", type=int, default=5, help="runs per side and case (default 5)")
    parser.add_argument("--workers", help="MAMORI_IMPORT_WORKERS for the runs (0: a single process)")
    parser.add_argument(
        "--baseline", metavar="SRC", help="another mamori's src folder, measured the same way"
    )
    parser.add_argument("--no-in-process", action="store_true", help="whole-process figures only")
    parser.add_argument(
        "--output",
        choices=("json", "text"),
        default="json",
        help="mamori's output in the whole-process runs: json (default) or text, what a user sees by default",
    )
    parser.add_argument(
        "--dataset", choices=sorted(DATASETS), action="append", help="only these (repeatable)"
    )
    args = parser.parse_args()
    if args.workers is not None:
        os.environ["MAMORI_IMPORT_WORKERS"] = args.workers
    _compile(args.baseline)
    load_before = os.getloadavg()
    reference = reference_seconds()
    whole: dict[str, Any] = {}
    inside: dict[str, Any] = {}
    for dataset in args.dataset or DATASETS:
        with tempfile.TemporaryDirectory() as inputs:
            source = _input(dataset, inputs)
            backends = [None, args.pg] if args.pg else [None]
            for pg in backends:
                key = f"{dataset}/{'postgresql' if pg else 'sqlite'}"
                whole[key] = whole_process(dataset, source, args.repeat, pg, args.baseline, args.output)
                if not args.no_in_process:
                    inside[key] = in_process(dataset, source, args.repeat, pg, args.baseline)
    print(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "reference_seconds": reference,
                "workers": os.environ.get("MAMORI_IMPORT_WORKERS", "default"),
                "mamori_output": args.output,
                "statistic": "median with min and max over the same number of runs for every side",
                "warm_up": "none; before timing: .pyc written for mamori, the zip written (inputs in the OS file cache); "
                "every process may write its caches (PYTHONDONTWRITEBYTECODE removed), so mamori's first run writes "
                "its data-class code cache as an installed mamori's first run does",
                "whole_process": whole,
                "in_process": inside,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
