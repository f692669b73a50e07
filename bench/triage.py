"""Triage cost on a large scan: the 5,000-component SBOM of bench/scan.py against the full local store.

Imports ../shared/data into a temp SQLite file (or reuses ``--db``), then, in this process, times
separately (there is no peer: the figures are mamori's own cost of each stage):

- ``scan``: the scan of the SBOM with a fresh ``Matcher``;
- ``enrich``: SSVC decision (deployer tree, low skill) and priority score for every finding, with the
  stored records' CISA ADP points read through the scan's ``Knowledge`` (cached by that scan);
- ``render_json``: the scan JSON report with the ``ssvc``/``priority_score``/``vex`` fields;
- ``cve5``: every CVE 5 record of ../shared/data parsed, and those with CISA ADP points decided in memory
  (the proof of tests/test_triage_cve5.py).

Every stage: median, min and max over ``--repeat`` runs (default 5). Warm-up: one untimed
scan + enrich + render cycle and one untimed CVE 5 parse + decide first (imports, the SQLite and OS
page cache, the files of ../shared/data/cve5). Each timed cycle uses a fresh ``Matcher``, so no
matcher cache is carried from one run to the next. The peak RSS is this whole process's.

Usage: .venv/bin/python bench/triage.py [--components 5000] [--db PATH] [--repeat 5]
Prints one JSON object; not run by pytest.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from process_timing import machine, summary  # noqa: E402


def _bench_scan():
    spec = importlib.util.spec_from_file_location("bench_scan", REPO / "bench" / "scan.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _triage_once(db: str, sbom: Path) -> tuple[dict[str, float], dict[str, object]]:
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
    facts = {
        "findings": len(result.findings),
        "json_bytes": len(data),
        "findings_with_cisa_adp_points": sum(1 for t in items if t.subject.facts.adp is not None),
        "outcomes": distribution(items),
    }
    return {"scan": scanned, "enrich": enriched, "render_json": rendered}, facts


def time_triage(db: str, sbom: Path, repeat: int) -> dict[str, object]:
    _triage_once(db, sbom)  # warm-up, untimed
    runs = [_triage_once(db, sbom) for _ in range(repeat)]
    facts = runs[-1][1]
    out: dict[str, object] = dict(facts)
    for stage in ("scan", "enrich", "render_json"):
        out[stage] = summary([r[0][stage] for r in runs])
    findings = int(facts["findings"]) or 1  # type: ignore[call-overload]
    out["enrich_ms_per_finding_median"] = round(
        1000 * statistics.median(r[0]["enrich"] for r in runs) / findings, 4
    )
    return out


def _cve5_once() -> tuple[dict[str, float], dict[str, object]]:
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
    decide = time.perf_counter() - start
    facts = {
        "records": len(records),
        "with_cisa_adp_points": len(subjects),
        "outcomes": distribution(decided),
    }
    return {"parse": parsed, "decide": decide}, facts


def time_cve5(repeat: int) -> dict[str, object]:
    _cve5_once()  # warm-up, untimed
    runs = [_cve5_once() for _ in range(repeat)]
    return {
        **runs[-1][1],
        "parse": summary([r[0]["parse"] for r in runs]),
        "decide": summary([r[0]["decide"] for r in runs]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=5000)
    parser.add_argument("--db", help="an already imported store (skips the import)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bench = _bench_scan()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "kb.db")
        out: dict[str, object] = {
            "machine_at_start": machine(),
            "runs": args.repeat,
            "statistic": "median, min and max",
            "warm_up": "one untimed cycle of each part first; a fresh Matcher for every timed scan",
        }
        if not args.db:
            out["import_seconds"] = bench.import_all(db)
        sbom = Path(tmp) / "bench.cdx.json"
        out["sbom"] = bench.build_sbom(db, args.components, sbom)
        out["triage"] = time_triage(db, sbom, args.repeat)
    out["cve5"] = time_cve5(args.repeat)
    out["machine_at_end"] = machine()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
