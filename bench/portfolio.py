"""Portfolio speed: 2,000 stored SBOMs × 200 components re-matched, then only what 100 advisories changed.

1. Imports ../shared/data (OSV PyPI + misc, CVE 5, NVD, KEV, purl2cpe) into a temp SQLite file,
   holding back one advisory of each of 100 PyPI packages that have several.
2. Builds SBOMs of real package names and versions taken from the store: OSV affected packages at
   versions their records list or name in range events, and purls whose purl2cpe link reaches a
   CVE 5 / NVD product, at versions those records name. ``--layout products`` (default): 250
   products × 8 releases, each release changing ~15 % of its predecessor's components (versions
   bumped, packages swapped); ``--layout independent``: every SBOM drawn on its own (more distinct
   components, the harder case). Each SBOM is written as CycloneDX JSON and stored through
   :func:`mamori.portfolio.store_sbom` — the code behind ``mamori release add``.
3. Times, each in a fresh ``mamori portfolio rematch`` process (wall time and that process's peak
   RSS): a full re-match; a changed-only one with nothing changed; the 100 held-back advisories
   imported, then changed-only; 100 stored OSV records changed (``modified`` bumped, a version added
   to their ``versions``), then changed-only; a full re-match again, for comparison — it must open
   and resolve nothing if the changed-only runs missed nothing.

Usage: .venv/bin/python bench/portfolio.py [--sboms 2000] [--components 200] [--layout products|independent]
       [--keep DIR]
Prints one JSON object; not run by pytest.

Repeated full re-matches of a kept store (``--reuse DIR``, a folder an earlier ``--keep DIR`` run left):
each of ``--runs`` rounds copies the store afresh and times one fresh ``mamori portfolio rematch``
process on the copy (wall time, CPU time, peak RSS; median with min and max). With ``--peer-src SRC`` (the ``src``
folder of another checkout of mamori, e.g. the previous commit) every round also times that code on its
own fresh copy, alternating which goes first; the matches and findings both leave are compared row by
row (``identical``), and so are the run summaries (counts and open totals, ``summary_identical``). No peer outside mamori does this offline, so the peer is mamori's own previous code.
Caches: the OS file cache holds the store after the first copy (both sides alike); mamori keeps no
result cache between processes — each process parses every advisory it needs afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MAMORI_SHARED_DATA", REPO.parent / "shared" / "data"))
MAMORI = str(Path(sys.executable).with_name("mamori"))
PURL_TYPES = {"PyPI": "pypi", "npm": "npm", "Maven": "maven", "Go": "golang", "Packagist": "composer"}


def held_back(rng: random.Random, count: int) -> list[Path]:
    """One advisory each of ``count`` PyPI packages that have several (they stay in the SBOM pool)."""
    packages = sorted(
        p for p in (DATA / "osv" / "pypi").iterdir() if p.is_dir() and len(list(p.iterdir())) > 1
    )
    return [rng.choice(sorted(p.iterdir())) for p in rng.sample(packages, count)]


def import_store(db: str, hold: list[Path]) -> dict[str, float]:
    from mamori.store import open_store
    from mamori.vulndb import Blob, import_blobs, import_path
    from mamori.vulndb.coverage import CoverageClaim

    seconds: dict[str, float] = {}
    skip = set(hold)
    with open_store(db) as store:
        start = time.perf_counter()
        blobs = [
            Blob(str(p), p.read_bytes())
            for p in sorted((DATA / "osv").rglob("*"))
            if p.is_file() and p not in skip
        ]
        # the shared data stands for whole feeds (mirrors), so that matching evaluates what it covers
        import_blobs(store, blobs, origin=str(DATA / "osv"), complete=[CoverageClaim("osv")])
        seconds["osv"] = round(time.perf_counter() - start, 2)
        for name in ("cve5", "nvd", "kev", "purl2cpe"):
            start = time.perf_counter()
            claims = [CoverageClaim(name)] if name in ("cve5", "nvd") else []
            import_path(store, DATA / name, complete=claims)
            seconds[name] = round(time.perf_counter() - start, 2)
    return seconds


def _purl(ecosystem: str, name: str, version: str) -> str | None:
    from packageurl import PackageURL

    kind = PURL_TYPES.get(ecosystem)
    if kind is None:
        return None
    namespace = None
    if kind == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif kind in ("golang", "composer", "npm") and "/" in name:
        namespace, name = name.rsplit("/", 1)
    return PackageURL(type=kind, namespace=namespace, name=name, version=version).to_string()


def package_pool(db: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """purl without version → real versions: from OSV affected packages, and from purl2cpe-linked CPE products."""
    from packageurl import PackageURL
    from sqlalchemy import select

    from mamori.store import documents, open_store, schema

    osv: dict[str, set[str]] = defaultdict(set)
    linked: dict[str, set[str]] = defaultdict(set)
    with open_store(db) as store, store.engine.connect() as conn:
        sr = schema.SourceRecord.__table__
        for (doc,) in conn.execute(select(sr.c.doc).where(sr.c.source == "osv")):
            for pkg in documents.unpack(doc).get("affected_packages") or []:
                versions = set(pkg.get("versions") or [])
                for rng in pkg.get("ranges") or []:
                    if str(rng.get("type")).upper() in ("ECOSYSTEM", "SEMVER"):
                        versions.update(
                            str(e["value"])
                            for e in rng.get("events") or []
                            if e.get("value") not in ("0", "*")
                        )
                for version in versions:
                    purl = _purl(str(pkg.get("ecosystem")), str(pkg.get("name")), version)
                    if purl:
                        osv[purl.rsplit("@", 1)[0]].add(version)
        cpe = schema.AffectedCpe.__table__
        named: dict[tuple[str, str], set[str]] = defaultdict(set)
        stmt = select(
            cpe.c.vendor,
            cpe.c.product,
            cpe.c.version,
            cpe.c.start_including,
            cpe.c.end_including,
            cpe.c.end_excluding,
        )
        for vendor, product, *values in conn.execute(stmt):
            named[(vendor, product)].update(v for v in values if v and any(ch.isdigit() for ch in v))
        link = schema.PurlCpe.__table__
        for purl, vendor, product in conn.execute(select(link.c.purl, link.c.cpe_vendor, link.c.cpe_product)):
            if named.get((vendor, product)):
                base = (
                    PackageURL.from_string(purl)
                    ._replace(version=None, qualifiers=None, subpath=None)
                    .to_string()
                )
                linked[base].update(named[(vendor, product)])
    return ({k: sorted(v) for k, v in osv.items()}, {k: sorted(v) for k, v in linked.items()})


def _draw(
    rng: random.Random, pools: tuple[dict[str, list[str]], dict[str, list[str]]], size: int
) -> dict[str, str]:
    osv, linked = pools
    take_linked = min(len(linked), size // 4)
    chosen = rng.sample(sorted(osv), size - take_linked) + rng.sample(sorted(linked), take_linked)
    return {base: rng.choice(osv.get(base) or linked[base]) for base in chosen}


def _evolve(
    rng: random.Random, pools: tuple[dict[str, list[str]], dict[str, list[str]]], previous: dict[str, str]
) -> dict[str, str]:
    osv, linked = pools
    current = dict(previous)
    for base in rng.sample(sorted(current), len(current) // 10):  # version changes
        current[base] = rng.choice(osv.get(base) or linked[base])
    for base in rng.sample(sorted(current), len(current) // 20):  # a dependency swapped for another
        del current[base]
        replacement = rng.choice(sorted(set(osv) - set(current)))
        current[replacement] = rng.choice(osv[replacement])
    return current


def write_sboms(
    folder: Path, pools: Any, sboms: int, size: int, layout: str, seed: int
) -> list[tuple[str, str, Path]]:
    from mamori.model.sbom import Component, Document, Tool
    from mamori.sbom import write

    rng = random.Random(seed)
    releases_per_product = 8 if layout == "products" else 1
    out: list[tuple[str, str, Path]] = []
    previous: dict[str, str] = {}
    for index in range(sboms):
        product, release = f"product-{index // releases_per_product:04d}", f"1.{index % releases_per_product}"
        if layout == "products" and index % releases_per_product:
            chosen = _evolve(rng, pools, previous)
        else:
            chosen = _draw(rng, pools, size)
        previous = chosen
        components = []
        for base, version in sorted(chosen.items()):
            purl = f"{base}@{version}"
            components.append(Component(base.rsplit("/", 1)[-1], version, purl=purl, bom_ref=purl))
        doc = Document(name=f"{product} {release}", components=components, tools=[Tool("bench/portfolio.py")])
        path = folder / f"{product}-{release}.cdx.json"
        write(doc, path)
        out.append((product, release, path))
    return out


def store_all(db: str, files: list[tuple[str, str, Path]]) -> dict[str, Any]:
    from mamori.portfolio import add_product, store_sbom
    from mamori.store import open_store

    start = time.perf_counter()
    with open_store(db) as store:
        for product in sorted({p for p, _, _ in files}):
            add_product(store, product, "bench supplier")
        for product, release, path in files:
            store_sbom(store, product, release, path, who="bench")
    return {"sboms": len(files), "seconds": round(time.perf_counter() - start, 2)}


def cli_rematch(db: str, changed_only: bool, env: dict[str, str] | None = None) -> dict[str, Any]:
    """``mamori portfolio rematch`` in a fresh process: its summary, wall time, CPU time (user + system)
    and peak RSS."""
    args = [MAMORI, "portfolio", "rematch", "--db", db, "--format", "json"] + (
        ["--changed-only"] if changed_only else []
    )
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"mamori portfolio rematch failed ({proc.returncode})")
    summary = json.loads(output)
    keep = (
        "mode",
        "seconds",
        "vulnerabilities_changed",
        "components",
        "placements",
        "releases",
        "opened",
        "reopened",
        "resolved",
        "open_findings",
        "not_evaluated",
        "by_rating",
    )
    return {
        **{k: summary[k] for k in keep},
        "process_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def import_files(db: str, blobs: list[Any]) -> float:
    from mamori.store import open_store
    from mamori.vulndb import import_blobs

    start = time.perf_counter()
    with open_store(db) as store:
        import_blobs(store, blobs, origin="bench")
    return round(time.perf_counter() - start, 2)


def _timestamp(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


def changed_records(db: str, rng: random.Random, count: int, avoid: set[str]) -> list[Any]:
    """``count`` stored OSV PyPI records whose package the portfolio holds, ``modified`` bumped and one
    more version (a real one of that package, held by the portfolio) added to their ``versions``."""
    import yaml
    from sqlalchemy import select

    from mamori.model.names import normalise_name
    from mamori.portfolio import tables
    from mamori.store import open_store
    from mamori.vulndb import Blob

    held: dict[str, set[str]] = defaultdict(set)
    with open_store(db) as store, store.engine.connect() as conn:
        c = tables.ComponentRow.__table__
        for name_key, version in conn.execute(
            select(c.c.name_key, c.c.version).where(c.c.ecosystem == "PyPI")
        ):
            held[name_key].add(version)
    records = []
    for path in sorted((DATA / "osv" / "pypi").rglob("*.yaml")):
        if str(path) in avoid:
            continue
        record = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        affected = record.get("affected") or []
        if affected and normalise_name("PyPI", affected[0]["package"]["name"]) in held:
            records.append(record)
    blobs = []
    for record in rng.sample(records, count):
        record["modified"] = "2026-11-22T00:00:00Z"
        affected = record["affected"][0]
        listed = set(affected.get("versions") or [])
        extra = sorted(held[normalise_name("PyPI", affected["package"]["name"])] - listed)
        affected["versions"] = sorted(listed) + (extra[:1] or ["0.0.0.post9999"])
        blobs.append(Blob(f"{record['id']}.json", json.dumps(record, default=_timestamp).encode()))
    return blobs


def _dump(db: str) -> list[tuple[Any, ...]]:
    """Every finding with its match: (release, component key, vulnerability, verdict, state, fixed, detail)."""
    import sqlite3

    with sqlite3.connect(db) as con:
        rows = con.execute(
            "select f.release_id, c.key, m.vuln_id, m.verdict, f.resolved_run is null, f.resolution,"
            " m.fixed, m.detail, m.digest from portfolio_finding f"
            " join portfolio_match m on m.id = f.match_id join portfolio_component c on c.id = m.component_id"
        ).fetchall()
    return sorted(rows, key=repr)


def repeated(folder: Path, runs: int, peer_src: Path | None) -> dict[str, Any]:
    """``runs`` full re-matches of the kept store, each on a fresh copy, alternating with the peer."""
    import shutil
    import statistics

    sides = {"this": None, **({"peer": peer_src} if peer_src else {})}
    times: dict[str, list[tuple[float, float, float]]] = {k: [] for k in sides}  # wall, CPU, RSS
    summaries: dict[str, dict[str, Any]] = {}  # round 0's run summary (counts and totals) per side
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(runs):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for side in order:
                db = str(Path(scratch) / f"{side}-{round_ % 2}.db")  # round 0's copies are kept
                shutil.copyfile(folder / "portfolio.db", db)
                env = dict(os.environ)
                if sides[side] is not None:
                    env["PYTHONPATH"] = str(sides[side])
                result = cli_rematch(db, changed_only=False, env=env)
                times[side].append((result["process_seconds"], result["cpu_seconds"], result["peak_rss_mb"]))
                if round_ == 0:
                    summaries[side] = {
                        k: v
                        for k, v in result.items()
                        if k not in ("seconds", "process_seconds", "cpu_seconds", "peak_rss_mb")
                    }
        # compared after every timed run: a child process forked from a big parent reports the
        # parent's resident memory as its peak
        dumps = {side: _dump(str(Path(scratch) / f"{side}-0.db")) for side in sides}
    out: dict[str, Any] = {"runs": runs, "statistic": "median (min, max) of fresh processes"}
    for side, values in times.items():
        wall, cpu = [w for w, _, _ in values], [c for _, c, _ in values]
        out[side] = {
            "code": str(sides[side] or REPO / "src"),
            "process_seconds_median": round(statistics.median(wall), 2),
            "process_seconds_min": round(min(wall), 2),
            "process_seconds_max": round(max(wall), 2),
            # user + system time of the process: what the run costs whatever else loads the machine
            "cpu_seconds_median": round(statistics.median(cpu), 2),
            "cpu_seconds_min": round(min(cpu), 2),
            "cpu_seconds_max": round(max(cpu), 2),
            "peak_rss_mb_max": max(r for _, _, r in values),
        }
    if peer_src:
        out["identical"] = dumps["this"] == dumps["peer"]
        out["summary_identical"] = summaries["this"] == summaries["peer"]  # counts and open totals
        out["findings_compared"] = len(dumps["this"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sboms", type=int, default=2000)
    parser.add_argument("--components", type=int, default=200)
    parser.add_argument("--layout", choices=("products", "independent"), default="products")
    parser.add_argument("--advisories", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep the store and SBOMs")
    parser.add_argument("--reuse", type=Path, help="only time full re-matches of the store a --keep run left")
    parser.add_argument("--runs", type=int, default=5, help="rounds with --reuse")
    parser.add_argument("--peer-src", type=Path, help="with --reuse: another mamori src folder to time too")
    args = parser.parse_args()
    if args.reuse:
        before = [round(x, 2) for x in os.getloadavg()]
        result = repeated(args.reuse, args.runs, args.peer_src)
        result["load_average_before"] = before
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(result, indent=2))
        return
    rng = random.Random(args.seed)
    from mamori.vulndb import Blob

    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        db = str(Path(tmp) / "portfolio.db")
        hold = held_back(rng, args.advisories)
        imported = import_store(db, hold)
        pools = package_pool(db)
        folder = Path(tmp) / "sboms"
        folder.mkdir()
        start = time.perf_counter()
        files = write_sboms(folder, pools, args.sboms, args.components, args.layout, args.seed)
        written = round(time.perf_counter() - start, 2)
        stored = store_all(db, files)
        from sqlalchemy import func, select

        from mamori.portfolio import tables
        from mamori.store import open_store

        with open_store(db) as store, store.engine.connect() as conn:
            placements = conn.scalar(select(func.count()).select_from(tables.SbomComponentRow.__table__))
            identities = conn.scalar(select(func.count()).select_from(tables.ComponentRow.__table__))
        full = cli_rematch(db, changed_only=False)
        idle = cli_rematch(db, changed_only=True)
        new_import = import_files(db, [Blob(str(p), p.read_bytes()) for p in hold])
        after_new = cli_rematch(db, changed_only=True)
        changed = changed_records(db, rng, args.advisories, {str(p) for p in hold})
        changed_import = import_files(db, changed)
        after_changed = cli_rematch(db, changed_only=True)
        again = cli_rematch(db, changed_only=False)
        size_mb = round(os.path.getsize(db) / 1e6, 1)
    print(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "import_seconds": imported,
                "portfolio": {
                    "layout": args.layout,
                    "sboms": args.sboms,
                    "components_per_sbom": args.components,
                    "placements": placements,
                    "distinct_components": identities,
                    "pool_packages": {"osv": len(pools[0]), "purl2cpe_linked": len(pools[1])},
                    "write_sboms_seconds": written,
                    "store_sboms": stored,
                    "database_mb_at_end": size_mb,
                },
                "full_rematch": full,
                "changed_only_nothing_changed": idle,
                "new_advisories": {"count": len(hold), "import_seconds": new_import, "rematch": after_new},
                "changed_advisories": {
                    "count": len(changed),
                    "import_seconds": changed_import,
                    "rematch": after_changed,
                },
                "full_rematch_again": again,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
