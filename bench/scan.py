"""Scan speed as a user feels it: whole `mamori scan` processes first, then in-process figures; the peer
(AppThreat vulnerability-db, the store behind OWASP dep-scan) scans the same SBOM in the same run.

Set-up (not timed): ../shared/data (OSV PyPI + misc, CVE 5, NVD, KEV, purl2cpe) imported into a temporary
SQLite store (``--db`` reuses one); a second mamori store and the peer's store hold only the OSV PyPI
advisories (the peer imports osv.dev-style JSON zips; it is served to it from a loopback HTTP server), so
that "like for like" compares the same data. SBOMs of real names and versions taken from the store: 5,000
components (PyPI packages at versions their advisories list, and packages whose purl2cpe link reaches a
CVE 5 / NVD product), 3 components, and with ``--large`` 50,000 (the 36,000 distinct ones the data gives,
then repeats under other bom-refs).

Whole processes (``bench/process_timing.py``: wall time and the process's peak RSS; median, min and max
over ``--repeat`` runs, the same number for every command, default 5; the commands compared run in turn,
A B A B ...; nothing is warmed up by the script, but every run after the first finds the store, the SBOM
and the Python files in the OS file cache, on both sides alike):
- ``mamori --version`` (start-up only) and a 3-component scan: their ratio;
- the 5,000-component scan with ``--format json -o FILE``, with the default table (to a file: not a
  terminal) and the full table (``--all``);
- like for like: the 5,000-component SBOM against OSV PyPI only, mamori (``scan -f json -o``) and the
  peer (``vdb --bom SBOM``, which prints what it finds);
- ``--large``: the 50,000-component scan (JSON), for its peak RSS.

In process (same ``--repeat``, median/min/max): a scan with a new ``Matcher`` each run (no result cache:
the matcher's caches start empty) against mamori's OSV-PyPI store, and the peer's
``search.search_by_cdx_bom`` over the same SBOM.

Against another mamori (``--baseline SRC``: its ``src`` folder, e.g. an export of the main branch): the
5,000-component JSON scan of this tree and of the baseline (the same interpreter and packages, the
baseline first on ``PYTHONPATH``), fresh processes in turn, wall and CPU seconds (user + system, which
the machine's load moves less) with the same statistic; the two reports must be byte for byte the same
but for the feeds' ``age_days``, which grows while the runs go on (the script stops otherwise). ``--json-only``: that comparison and the 5,000-component JSON scan only.

Bytecode: the modules of mamori (and of the baseline) are compiled before anything is timed, as
``pip install`` does for an installed package (under PYTHONDONTWRITEBYTECODE an editable install would
otherwise compile every module in every run).

Usage: .venv/bin/python bench/scan.py [--repeat 5] [--db PATH] [--large] [--no-peer] [--baseline SRC]
[--json-only] (the peer: ``pip install -e '.[bench]'``). Prints one JSON object; not run by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from process_timing import machine, measure_in_turn, ratio, summary

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MAMORI_SHARED_DATA", REPO.parent / "shared" / "data"))
SOURCES = ["osv", "cve5", "nvd", "kev", "purl2cpe"]


def import_all(db: str) -> dict[str, float]:
    from mamori.store import open_store
    from mamori.vulndb import import_path
    from mamori.vulndb.coverage import FEED_SOURCES, CoverageClaim

    seconds: dict[str, float] = {}
    with open_store(db) as store:
        for name in SOURCES:
            start = time.perf_counter()
            # the shared data stands for whole feeds (mirrors), so that scans evaluate what it covers
            claims = [CoverageClaim(name)] if name in FEED_SOURCES else []
            import_path(store, DATA / name, complete=claims)
            seconds[name] = round(time.perf_counter() - start, 2)
    return seconds


def build_sbom(db: str, size: int, path: Path) -> dict[str, int]:
    """Real names and versions from the store: PyPI via OSV lists, others via purl2cpe → CVE records."""
    from packageurl import PackageURL
    from sqlalchemy import select

    from mamori.model.sbom import Component, Document
    from mamori.sbom import write
    from mamori.store import documents, open_store, schema

    rng = random.Random(5000)
    pypi: list[tuple[str, str]] = []
    linked: list[tuple[str, str]] = []
    with open_store(db) as store, store.engine.connect() as conn:
        sr = schema.SourceRecord.__table__
        for (doc,) in conn.execute(select(sr.c.doc).where(sr.c.source == "osv")):
            for pkg in documents.unpack(doc).get("affected_packages") or []:
                if pkg.get("ecosystem") == "PyPI":
                    pypi.extend((pkg["name"], v) for v in pkg.get("versions") or [])
        cpe = schema.AffectedCpe.__table__
        versions: dict[tuple[str, str], set[str]] = {}
        for vendor, product, *values in conn.execute(
            select(cpe.c.vendor, cpe.c.product, cpe.c.version, cpe.c.start_including, cpe.c.end_including)
        ):
            versions.setdefault((vendor, product), set()).update(v for v in values if v)
        link = schema.PurlCpe.__table__
        for purl, vendor, product in conn.execute(select(link.c.purl, link.c.cpe_vendor, link.c.cpe_product)):
            for version in sorted(versions.get((vendor, product), ()))[:8]:
                linked.append((purl, version))
    pypi = sorted(set(pypi))
    linked = sorted(set(linked))
    take_linked = min(len(linked), size * 2 // 5)
    chosen_pypi = rng.sample(pypi, min(len(pypi), size - take_linked))
    chosen_linked = rng.sample(linked, take_linked)
    components = [
        Component(name, version, purl=PackageURL(type="pypi", name=name, version=version).to_string())
        for name, version in chosen_pypi
    ]
    for purl, version in chosen_linked:
        base = PackageURL.from_string(purl)
        components.append(Component(base.name, version, purl=base._replace(version=version).to_string()))
    write(Document(name="bench-5000", components=components), path)
    return {"components": len(components), "pypi": len(chosen_pypi), "purl2cpe_linked": len(chosen_linked)}


def osv_pypi_store(db: str) -> None:
    from mamori.store import open_store
    from mamori.vulndb import import_path
    from mamori.vulndb.coverage import CoverageClaim

    with open_store(db) as store:
        import_path(store, DATA / "osv" / "pypi", complete=[CoverageClaim("osv")])


def large_sbom(sbom5000: Path, db: str, path: Path, size: int) -> dict[str, int]:
    """``size`` components: every distinct one the data gives, then repeats under other bom-refs."""
    import orjson

    made = build_sbom(db, size, path)
    doc = orjson.loads(path.read_bytes())
    components = doc["components"]
    rng = random.Random(size)
    extra = []
    for i, c in enumerate(rng.choices(components, k=max(0, size - len(components)))):
        c = dict(c)
        c["bom-ref"] = f"{c.get('bom-ref') or c.get('purl')}#repeat-{i}"
        extra.append(c)
    doc["components"] = components + extra
    doc.pop("dependencies", None)
    path.write_bytes(orjson.dumps(doc))
    return {**made, "components": len(doc["components"]), "repeated": len(extra)}


# --------------------------------------------------------------------------------------------- peer


def peer_store(home: Path, tmp: Path) -> dict[str, Any]:
    """vulnerability-db's store of the OSV PyPI advisories, built in a child process (not timed here)."""
    sys.path.insert(0, str(REPO / "bench"))
    module = __import__("import")  # bench/import.py: the zip as osv.dev publishes it
    module.json_zip(DATA / "osv" / "pypi", tmp / "all.zip")
    code = f"""
import functools, http.server, os, threading
os.environ["VDB_HOME"], os.environ["VDB_CACHE"] = {str(home)!r}, {str(home / "cache")!r}
from vdb.lib.osv import OSVSource
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory={str(tmp)!r}))
threading.Thread(target=server.serve_forever, daemon=True).start()
OSVSource().fetch(f"http://127.0.0.1:{{server.server_address[1]}}/all.zip", store_results=True, feed_key="python")
server.shutdown()
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    from importlib.metadata import version

    return {
        "peer": "vulnerability-db " + version("appthreat-vulnerability-db"),
        "store": "OSV PyPI (same zip)",
    }


def peer_in_process(home: Path, sbom: Path, repeat: int) -> dict[str, Any]:
    code = f"""
import json, os, statistics, time
os.environ["VDB_HOME"], os.environ["VDB_CACHE"] = {str(home)!r}, {str(home / "cache")!r}
from vdb.lib import search
times, hits = [], 0
for _ in range({repeat}):
    start = time.perf_counter()
    hits = sum(len(r or []) for r in search.search_by_cdx_bom({str(sbom)!r}, with_data=True))
    times.append(time.perf_counter() - start)
print(json.dumps({{"seconds": times, "results": hits}}))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return {**summary(got["seconds"]), "results": got["results"]}


# ------------------------------------------------------------------------------------------ timing


def mamori_in_process(db: str, sbom: Path, repeat: int) -> dict[str, Any]:
    from mamori.match import Matcher
    from mamori.sbom import read
    from mamori.scan.run import scan_document
    from mamori.store import open_store

    doc = read(sbom)
    times, findings = [], 0
    with open_store(db) as store:
        for _ in range(repeat):
            start = time.perf_counter()
            result = scan_document(
                doc, store, target=str(sbom), sbom_format="cyclonedx-json", matcher=Matcher(store)
            )
            times.append(time.perf_counter() - start)
            findings = len(result.findings)
    return {**summary(times), "findings": findings}


WARM_UP = (
    "none; bytecode compiled before timing; every process may write its caches (PYTHONDONTWRITEBYTECODE "
    "removed), so mamori's first run writes its data-class code cache as an installed mamori's does; the OS file cache holds the stores, SBOMs and Python files "
    "after the first run, for both sides alike; fresh processes of the commands compared run in turn "
    "(A B A B ...)"
)


def compile_bytecode(baseline: str | None) -> None:
    """Bytecode caches for mamori's modules (and the baseline's), as an installed package has them."""
    import compileall

    import mamori

    for folder in [Path(mamori.__file__).parent, *([Path(baseline) / "mamori"] if baseline else [])]:
        compileall.compile_dir(str(folder), quiet=1)


_AGE = re.compile(rb'"age_days": [0-9.eE+-]+')


def _timeless(report: bytes) -> bytes:
    """The report with the ages of the feeds (days since their import, to 0.01 day: they grow between
    two runs) masked: what must be byte for byte the same."""
    return _AGE.sub(b'"age_days": _', report)


def against_baseline(
    mamori: str, baseline: str, scan_args: list[str], tmp: Path, repeat: int
) -> dict[str, Any]:
    """This tree's scan and the baseline's, in turn: wall and CPU seconds; the reports compared."""
    import statistics

    sides = {"this": str(REPO / "src"), "baseline": str(Path(baseline).resolve())}
    wall: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    reports: dict[str, Path] = {name: tmp / f"report-{name}.json" for name in sides}
    for _ in range(repeat):
        for name, src in sides.items():
            env = {**os.environ, "PYTHONPATH": src}
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: caches written, as in process_timing
            cmd = [sys.executable, mamori, *scan_args, "-o", str(reports[name])]
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(usage.ru_utime + usage.ru_stime)
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"{name}: scan failed: {err[-2000:]}")
        if _timeless(reports["this"].read_bytes()) != _timeless(reports["baseline"].read_bytes()):
            raise SystemExit("the report differs from the baseline's")
    out: dict[str, Any] = {}
    for name in sides:
        out[name] = {**summary(wall[name]), "cpu": summary(cpu[name])}
    out["baseline_over_this"] = ratio(out["baseline"], out["this"])
    out["cpu_baseline_over_this"] = round(
        statistics.median(cpu["baseline"]) / statistics.median(cpu["this"]), 2
    )
    out["reports_identical"] = True
    out["report_bytes"] = reports["this"].stat().st_size
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="an already imported store of all the shared data (skips that import)")
    parser.add_argument("--large", action="store_true", help="also the 50,000-component scan")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--baseline", metavar="SRC", help="another mamori's src folder, compared in turn")
    parser.add_argument(
        "--json-only", action="store_true", help="only the 5,000-component JSON scan (and --baseline)"
    )
    args = parser.parse_args()
    compile_bytecode(args.baseline)
    mamori = str(Path(sys.executable).with_name("mamori"))
    n = args.repeat
    at_start = machine()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db = args.db or str(tmp / "kb.db")
        imported = None if args.db else import_all(db)
        osv_db = str(tmp / "osv-pypi.db")
        if not args.json_only:
            osv_pypi_store(osv_db)
        sbom = tmp / "bench-5000.cdx.json"
        made = build_sbom(db, 5000, sbom)
        small = tmp / "bench-3.cdx.json"
        if not args.json_only:
            build_sbom(db, 3, small)
        scan = [mamori, "scan", "--allow-partial"]
        out = tmp / "out"
        figures: dict[str, Any] = {}
        if args.baseline:
            json_args = ["scan", "--allow-partial", str(sbom), "--db", db, "-f", "json"]
            figures["scan_5000_json_vs_baseline"] = against_baseline(mamori, args.baseline, json_args, tmp, n)
        if args.json_only:
            figures.update(
                measure_in_turn(
                    {"scan_5000_json": [*scan, str(sbom), "--db", db, "-f", "json", "-o", str(out)]}, out, n
                )
            )
            print(json.dumps({"machine_at_start": at_start, "machine_at_end": machine(), "sbom": made,
                              "whole_process": figures, "warm_up": WARM_UP}, indent=2))  # fmt: skip
            return
        figures.update(
            measure_in_turn(
                {
                    "version": [mamori, "--version"],
                    "scan_3_json": [*scan, str(small), "--db", db, "-f", "json", "-o", str(out)],
                },
                out,
                n,
            )
        )
        figures["scan_3_over_version"] = ratio(figures["scan_3_json"], figures["version"])
        tables = {
            "scan_5000_json": [*scan, str(sbom), "--db", db, "-f", "json", "-o", str(out)],
            "scan_5000_table": [*scan, str(sbom), "--db", db],
        }
        help_text = subprocess.run([mamori, "scan", "--help"], capture_output=True, text=True).stdout
        if re.search(r"--all(?![-\w])", help_text) is not None:
            tables["scan_5000_table_all"] = [*scan, str(sbom), "--db", db, "--all"]
        figures.update(measure_in_turn(tables, out, n))
        figures["scan_5000_table_over_json"] = ratio(figures["scan_5000_table"], figures["scan_5000_json"])
        like_cmds = {"mamori": [*scan, str(sbom), "--db", osv_db, "-f", "json", "-o", str(out)]}
        inproc: dict[str, Any] = {"mamori": mamori_in_process(osv_db, sbom, n)}
        peer_info: dict[str, Any] | str = "skipped (--no-peer)"
        home = tmp / "vdb"
        if not args.no_peer:
            try:
                peer_info = peer_store(home, tmp)
                vdb = str(Path(sys.executable).with_name("vdb"))
                env = ["env", f"VDB_HOME={home}", f"VDB_CACHE={home / 'cache'}"]
                like_cmds["peer"] = [*env, vdb, "--quiet", "--bom", str(sbom)]
                inproc["peer"] = peer_in_process(home, sbom, n)
            except (ImportError, subprocess.CalledProcessError, SystemExit) as exc:
                peer_info = f"not run: {exc}"
        like: dict[str, Any] = measure_in_turn(like_cmds, out, n)
        if "peer" in like:
            like["peer_over_mamori"] = ratio(like["peer"], like["mamori"])
        if args.large:
            big = tmp / "bench-50000.cdx.json"
            made_large = large_sbom(sbom, db, big, 50000)
            cmd = [*scan, str(big), "--db", db, "-f", "json", "-o", str(out)]
            figures["scan_50000_json"] = {
                **measure_in_turn({"scan": cmd}, out, n)["scan"],
                "sbom": made_large,
            }
    print(
        json.dumps(
            {
                "machine_at_start": at_start,
                "machine_at_end": machine(),
                "import_seconds": imported,
                "sbom": made,
                "whole_process": figures,
                "like_for_like_osv_pypi": like,
                "in_process_new_matcher": inproc,
                "peer": peer_info,
                "warm_up": WARM_UP,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
