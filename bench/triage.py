"""Triage cost on a large scan: the 5,000-component SBOM of bench/scan.py against the full local store.

Imports ../shared/data into a temp SQLite file (or reuses ``--db``), scans once, then times separately:

- ``enrich``: SSVC decision (deployer tree, low skill) and priority score for every finding, with the
  stored records' CISA ADP points read through the scan's ``Knowledge`` (cached by the scan);
- ``render_json``: the scan JSON report with the ``ssvc``/``priority_score``/``vex`` fields;
- ``cve5_all``: every CVE 5 record with CISA ADP points decided in memory (the proof of tests/test_triage_cve5.py).

Usage: .venv/bin/python bench/triage.py [--components 5000] [--db PATH]
Prints one JSON object; not run by pytest.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _bench_scan():
    spec = importlib.util.spec_from_file_location("bench_scan", REPO / "bench" / "scan.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def time_triage(db: str, sbom: Path) -> dict[str, object]:
    from mamori.match import Matcher
    from mamori.report.json_report import render
    from mamori.scan.run import load_target, scan_document
    from mamori.store import open_store
    from mamori.triage.engine import distribution
    from mamori.triage.integrate import triage_scan

    with open_store(db) as store:
        matcher = Matcher(store)
        doc, fmt = load_target(sbom)
        start = time.perf_counter()
        result = scan_document(doc, store, target=str(sbom), sbom_format=fmt, matcher=matcher)
        scanned = time.perf_counter() - start
        start = time.perf_counter()
        triaged = triage_scan(result, matcher.knowledge, components=doc.all_components(), root=doc.root)
        enriched = time.perf_counter() - start
    start = time.perf_counter()
    data = render(result)
    rendered = time.perf_counter() - start
    items = [e.triaged for e in triaged.extra.values() if e.triaged is not None]
    adp = sum(1 for t in items if t.subject.facts.adp is not None)
    return {
        "findings": len(result.findings),
        "scan_seconds": round(scanned, 3),
        "enrich_seconds": round(enriched, 3),
        "enrich_ms_per_finding": round(1000 * enriched / max(1, len(result.findings)), 4),
        "render_json_seconds": round(rendered, 3),
        "json_bytes": len(data),
        "findings_with_cisa_adp_points": adp,
        "outcomes": distribution(items),
    }


def time_cve5() -> dict[str, object]:
    import orjson

    from mamori.scan.result import ComponentRef
    from mamori.triage.context import parse_context
    from mamori.triage.engine import Subject, distribution, triage
    from mamori.triage.facts import from_vulnerability
    from mamori.triage.variants import variant
    from mamori.vulndb.cve5 import parse_record

    start = time.perf_counter()
    records = [
        parse_record(orjson.loads(p.read_bytes()), str(p))
        for p in sorted((REPO.parent / "shared" / "data" / "cve5").rglob("*.json"))
    ]
    parsed = time.perf_counter() - start
    subjects = [Subject(from_vulnerability(r), ComponentRef("x"), "p") for r in records if r.ssvc]
    context = parse_context(
        {
            "default": {
                "system_exposure": "controlled",
                "mission_impact": "mef_support_crippled",
                "safety_impact": "negligible",
            }
        },
        "default",
    )
    start = time.perf_counter()
    decided = triage(subjects, variant("user", "low"), context)
    return {
        "records": len(records),
        "with_cisa_adp_points": len(subjects),
        "parse_seconds": round(parsed, 3),
        "decide_seconds": round(time.perf_counter() - start, 3),
        "outcomes": distribution(decided),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=5000)
    parser.add_argument("--db", help="an already imported store (skips the import)")
    args = parser.parse_args()
    bench = _bench_scan()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "kb.db")
        out: dict[str, object] = {}
        if not args.db:
            out["import_seconds"] = bench.import_all(db)
        sbom = Path(tmp) / "bench.cdx.json"
        out["sbom"] = bench.build_sbom(db, args.components, sbom)
        out["triage"] = time_triage(db, sbom)
    out["cve5"] = time_cve5()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
