"""Scan speed: a 5,000-component SBOM of real package names and versions taken from the store,
matched against the full local knowledge base.

Imports ../shared/data (OSV PyPI + misc, CVE 5, NVD, KEV, purl2cpe) into a temp SQLite file, builds
the SBOM from the store itself (PyPI packages at versions their advisories list, and packages whose
purl2cpe link reaches a CVE/NVD product, at versions the records name), then times:

- ``cold``: the first scan with a new Matcher (nothing cached: index rows, advisories, links);
- ``warm``: the same SBOM scanned again with that Matcher (median of 5);
- ``cli``: ``mamori scan SBOM --format json -o …`` in a fresh process (interpreter start included).

Usage: .venv/bin/python bench/scan.py [--components 5000] [--db PATH (reuse an imported store)]
Prints one JSON object; not run by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def time_scans(db: str, sbom: Path) -> dict[str, object]:
    from mamori.match import Matcher
    from mamori.sbom import read
    from mamori.scan.run import scan_document
    from mamori.store import open_store

    doc = read(sbom)
    with open_store(db) as store:
        matcher = Matcher(store)
        start, cpu = time.perf_counter(), time.process_time()
        result = scan_document(doc, store, target=str(sbom), sbom_format="cyclonedx-json", matcher=matcher)
        cold, cold_cpu = time.perf_counter() - start, time.process_time() - cpu
        warm, warm_cpu = [], []
        for _ in range(5):
            start, cpu = time.perf_counter(), time.process_time()
            again = scan_document(doc, store, target=str(sbom), sbom_format="cyclonedx-json", matcher=matcher)
            warm.append(time.perf_counter() - start)
            warm_cpu.append(time.process_time() - cpu)
        assert len(again.findings) == len(result.findings)
    methods: dict[str, int] = {}
    for f in result.findings:
        methods[f.match.method] = methods.get(f.match.method, 0) + 1
    return {
        "cold_seconds": round(cold, 3),
        "cold_cpu_seconds": round(cold_cpu, 3),
        "warm_seconds_median": round(statistics.median(warm), 3),
        "warm_cpu_seconds_median": round(statistics.median(warm_cpu), 3),
        "warm_seconds": [round(w, 3) for w in warm],
        "findings": len(result.findings),
        "findings_by_method": methods,
        "components_affected": result.components_affected(),
        "not_evaluated_notes": len(result.not_evaluated),
        "by_rating": result.by_rating(),
    }


def time_cli(db: str, sbom: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("mamori")),
            "scan",
            str(sbom),
            "--db",
            db,
            "--format",
            "json",
            "-o",
            str(out),
        ],
        check=False,
        capture_output=True,
    )
    return round(time.perf_counter() - start, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=5000)
    parser.add_argument("--db", help="an already imported store (skips the import)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "kb.db")
        imported = None if args.db else import_all(db)
        sbom = Path(tmp) / "bench.cdx.json"
        made = build_sbom(db, args.components, sbom)
        scans = time_scans(db, sbom)
        cli = time_cli(db, sbom, Path(tmp) / "report.json")
    print(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg(),
                "import_seconds": imported,
                "sbom": made,
                "scan": scans,
                "cli_fresh_process_seconds": cli,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
