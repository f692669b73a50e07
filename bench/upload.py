"""SBOM upload speed: seconds from ``PUT /api/v1/bom`` to ``processing: false``, and where they go.

1. Builds a store with ../shared/data imported (as bench/portfolio.py imports it) in a throw-away
   PostgreSQL database (``mamori_upload_<pid>`` on the server of ``--pg-url``, default
   ``$MAMORI_BENCH_PG_URL``; dropped at the end unless ``--keep``) or, with ``--sqlite FILE``, in a
   SQLite file; optionally a portfolio of ``--sboms`` stored SBOMs of ``--components`` real packages,
   fully re-matched. With ``--baseline SRC`` (the ``src`` folder of another checkout of mamori, e.g. the
   previous commit) the store is copied (``CREATE DATABASE … TEMPLATE``, or a file copy) and the other
   code gets the copy: both sides start from the same rows.
2. Whole process: a ``mamori serve`` per side on loopback (a free port, an administrator's API key).
   Each of ``--runs`` rounds draws a fresh SBOM of ``--upload-components`` real packages and versions
   (a new seed per round; rounds overlap in packages, as a product's releases do), uploads it as a
   new release through ``PUT /api/v1/bom`` (Dependency-Track's upload, base64 JSON body) and polls
   ``/api/v1/bom/token/{token}`` every ``--poll-ms`` (20 ms, as bench/server.py; each poll is a request the
   same server answers while it processes), to each side in turn (which side goes first alternates).
   Seconds from the submit to ``processing: false``: every round's, and the median with min and max.
   The first round of a server is its first upload (cold: nothing parsed or cached yet); the servers
   keep running across rounds, as a team server does.
3. In-process phase breakdown: a fresh process per side processes one more drawn SBOM through
   :func:`mamori.portfolio.uploads.process_upload` with the main steps timed (wall and the CPU seconds
   of the thread that ran each step; the whole upload's CPU seconds are the process's, as on PostgreSQL
   the matching of the next batch runs on another thread): parsing, component identities, storing the SBOM and its components,
   matching, building findings, writing matches and findings, portfolio totals.
4. Checks that both sides stored the same rows for each round's SBOM (the release's components, and its
   findings as (component, vulnerability, verdict, rating, method, open) tuples): ``identical``.

Usage: .venv/bin/python bench/upload.py [--runs 5] [--upload-components 5000] [--baseline OLD/src]
       [--sboms 0 | --reuse DBNAME] [--poll-ms 20] [--sqlite FILE | --pg-url URL] [--keep]
``--reuse DBNAME`` (PostgreSQL): instead of building a store, each side gets a copy of that database (a
``bench/server.py --keep`` portfolio, e.g. the 2,000 x 200 one); the database itself is not written to.
Prints one JSON object; not run by pytest. Caches: PostgreSQL's buffer cache and the OS file cache are
shared by both sides and warm after the first round; each server keeps what its code keeps in memory
between uploads (the new code: a matcher with its parsed advisories, as ``mamori scan`` keeps one).
Load average is printed: on a shared machine the wall seconds move with it, the CPU seconds less.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import portfolio as bench_portfolio

MAMORI = str(Path(sys.executable).with_name("mamori"))
V1 = "/api/mamori/v1"


def summary(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return {
        "n": n,
        "median_s": round(median, 3),
        "min_s": round(ordered[0], 3),
        "max_s": round(ordered[-1], 3),
    }


def _env(src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src:  # another mamori's source tree, ahead of the installed one
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@contextlib.contextmanager
def databases(args: argparse.Namespace) -> Iterator[tuple[str, Any]]:
    """The store's URL, and a function making a copy of it (after it is built) for the baseline."""
    if args.sqlite:
        copies: list[Path] = []

        def copy_sqlite() -> str:
            target = Path(f"{args.sqlite}.baseline")
            shutil.copy(args.sqlite, target)
            copies.append(target)
            return str(target)

        yield str(args.sqlite), copy_sqlite
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(args.pg_url)
    name = f"mamori_upload_{os.getpid()}"
    made = [name]
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if args.reuse:  # a copy of a database an earlier run left: the original is never written to
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{args.reuse}"'))
        else:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

    def copy_pg() -> str:
        copy = f"{name}_baseline"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{args.reuse or name}"'))
        made.append(copy)
        return server.set(database=copy).render_as_string(hide_password=False)

    try:
        yield server.set(database=name).render_as_string(hide_password=False), copy_pg
    finally:
        if not args.keep:
            with admin.connect() as conn:
                for db in made:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def build(db: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    if args.reuse:
        return {"reused": args.reuse, "pool": bench_portfolio.package_pool(db)}
    out: dict[str, Any] = {"import_seconds": bench_portfolio.import_store(db, [])}
    pools = bench_portfolio.package_pool(db)
    if args.sboms:
        sboms = folder / "portfolio"
        sboms.mkdir()
        files = bench_portfolio.write_sboms(sboms, pools, args.sboms, args.components, "products", args.seed)
        out["store_sboms"] = bench_portfolio.store_all(db, files)
        out["full_rematch"] = bench_portfolio.cli_rematch(db, changed_only=False)
    out["pool"] = pools
    return out


def draw_sbom(pools: Any, seed: int, size: int, path: Path) -> Path:
    """``size`` real packages at real versions (bench/server.py's upload), drawn with ``seed``."""
    from mamori.model.sbom import Component, Document, Tool
    from mamori.sbom import write

    rng = random.Random(seed)
    every = sorted({(base, v) for pool in pools for base, versions in pool.items() for v in versions})
    chosen = rng.sample(every, min(size, len(every)))
    components = [
        Component(base.rsplit("/", 1)[-1], version, purl=f"{base}@{version}", bom_ref=f"{base}@{version}")
        for base, version in sorted(chosen)
    ]
    write(Document(name="upload", components=components, tools=[Tool("bench/upload.py")]), path)
    return path


def admin_key(db: str, src: str | None) -> str:
    code = (
        "import sys\nfrom mamori import accounts\nfrom mamori.store import open_store\n"
        "with open_store(sys.argv[1]) as store:\n"
        "    accounts.create_team(store, 'bench')\n"
        "    print(accounts.create_api_key(store, 'bench', 'admin')[1])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, db], env=_env(src), capture_output=True, text=True, check=True
    )
    return run.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def serve(db: str, src: str | None) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [MAMORI, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(src),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url + "/openapi.json", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def upload(client: httpx.Client, path: Path, product: str, version: str, poll: float) -> dict[str, Any]:
    body = {
        "projectName": product,
        "projectVersion": version,
        "autoCreate": True,
        "bom": base64.b64encode(path.read_bytes()).decode(),
    }
    start = time.perf_counter()
    response = client.put("/api/v1/bom", json=body)
    response.raise_for_status()
    token = response.json()["token"]
    while client.get(f"/api/v1/bom/token/{token}").json()["processing"]:
        if time.perf_counter() - start > 600:
            raise SystemExit("the upload did not finish in 10 minutes")
        time.sleep(poll)
    seconds = time.perf_counter() - start
    status = client.get(f"{V1}/uploads/{token}").json()
    return {
        "seconds": round(seconds, 3),
        "state": status.get("state"),
        "components": status.get("components"),
        "open_findings": status.get("open_findings"),
    }


def stored_rows(db: str, product: str, version: str) -> dict[str, Any]:
    """The release's components and findings as comparable tuples (no ids, no times). Read through a plain
    engine, not ``open_store``: opening would migrate the other side's store to this code's revision."""
    from sqlalchemy import create_engine, select

    from mamori.portfolio import tables as t

    p, r, s = t.ProductRow.__table__, t.ReleaseRow.__table__, t.SbomRow.__table__
    sc, c = t.SbomComponentRow.__table__, t.ComponentRow.__table__
    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    engine = create_engine(db if "://" in db else f"sqlite:///{db}")
    with engine.connect() as conn:
        rid, sbom_id = conn.execute(
            select(r.c.id, r.c.current_sbom_id)
            .join(p, p.c.id == r.c.product_id)
            .where(p.c.name == product, r.c.version == version)
        ).one()
        sbom = conn.execute(select(s.c.sha256, s.c.format, s.c.components).where(s.c.id == sbom_id)).one()
        skip = {"id", "matched_run"}
        columns = [col for col in c.c if col.name not in skip]
        components = sorted(
            tuple(row)
            for row in conn.execute(
                select(*columns).join(sc, sc.c.component_id == c.c.id).where(sc.c.sbom_id == sbom_id)
            )
        )
        match_columns = [col for col in m.c if col.name not in ("id", "component_id")]
        findings = sorted(
            (str(row[0]), *(str(v) for v in row[1:]))
            for row in conn.execute(
                select(c.c.key, *match_columns, f.c.resolved_run.is_(None), f.c.resolution)
                .select_from(f.join(m, m.c.id == f.c.match_id).join(c, c.c.id == m.c.component_id))
                .where(f.c.release_id == rid)
            )
        )
    engine.dispose()
    return {"sbom": tuple(sbom), "components": components, "findings": findings}


PHASES = """
import functools, importlib, json, sys, time, zlib
from pathlib import Path
from mamori.store import open_store
from mamori.portfolio import uploads as up
archive = importlib.import_module("mamori.portfolio.archive")
rematch = importlib.import_module("mamori.portfolio.rematch")
matcher = importlib.import_module("mamori.match.matcher")
finding = importlib.import_module("mamori.scan.finding")
WALL, CPU = {}, {}
def timed(owner, name, label):
    fn = getattr(owner, name)
    @functools.wraps(fn)
    def wrapper(*a, **k):
        w, c = time.perf_counter(), time.thread_time()
        try:
            return fn(*a, **k)
        finally:
            WALL[label] = WALL.get(label, 0.0) + time.perf_counter() - w
            CPU[label] = CPU.get(label, 0.0) + time.thread_time() - c
    setattr(owner, name, wrapper)
timed(archive, "store_sbom_data", "store_sbom")
timed(archive, "parse_sbom", "store_sbom.parse")
timed(archive, "unique_identities", "store_sbom.identities")
timed(archive, "component_ids", "store_sbom.component_rows")
timed(rematch, "match_release", "match_release")
timed(matcher.Matcher, "match", "match_release.matcher")
timed(rematch.Engine, "_evaluate", "match_release.evaluate_with_findings")
timed(rematch.Engine, "_write", "match_release.write_matches_findings")
timed(rematch.Engine, "context_keys", "match_release.and_configurations")
timed(rematch, "_totals", "match_release.portfolio_totals")
db, sbom, product = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
data = sbom.read_bytes()
with open_store(db) as store:
    token = up.submit_upload(store, data, sbom.name, product, "1", True, "bench")
    w, c = time.perf_counter(), time.process_time()  # the process's: matching may run on another thread
    status = up.process_upload(store, token)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
print(json.dumps({
    "state": status.state, "open_findings": status.open_findings,
    "process_upload": {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)},
    **{k: {"wall_s": round(WALL[k], 3), "cpu_s": round(CPU[k], 3)} for k in sorted(WALL)},
}))
"""


def phases(db: str, sbom: Path, product: str, src: str | None) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-c", PHASES, db, str(sbom), product],
        env=_env(src),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if run.returncode != 0:
        raise SystemExit(f"the phase run failed: {run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="uploads per side through the server")
    parser.add_argument("--upload-components", type=int, default=5000)
    parser.add_argument("--sboms", type=int, default=0, help="a portfolio of this many SBOMs first")
    parser.add_argument("--components", type=int, default=200, help="components per portfolio SBOM")
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--baseline", metavar="SRC", help="another mamori's src folder, measured alike")
    parser.add_argument("--pg-url", default=os.environ.get("MAMORI_BENCH_PG_URL"))
    parser.add_argument("--sqlite", type=Path, help="a SQLite file (made) instead of PostgreSQL")
    parser.add_argument(
        "--poll-ms", type=float, default=20, help="status polling interval (bench/server.py: 20)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--reuse",
        metavar="DBNAME",
        help="PostgreSQL: copy this database (e.g. bench/server.py's 2,000 x 200 portfolio) instead of building one",
    )
    args = parser.parse_args()
    if not args.sqlite and not args.pg_url:
        parser.error("--pg-url (or MAMORI_BENCH_PG_URL) or --sqlite is needed")
    if args.reuse and args.sqlite:
        parser.error("--reuse copies a PostgreSQL database")
    result: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_start": list(os.getloadavg())}
    result["settings"] = {
        "runs": args.runs,
        "upload_components": args.upload_components,
        "poll_ms": args.poll_ms,
    }
    sides: dict[str, str | None] = {"mamori": None}
    if args.baseline:
        sides["mamori_baseline"] = str(Path(args.baseline).resolve())
    with tempfile.TemporaryDirectory() as scratch, databases(args) as (db, copy):
        folder = Path(scratch)
        result["database"] = "sqlite" if args.sqlite else "postgresql"
        result["portfolio"] = (
            {"reused": args.reuse}
            if args.reuse
            else {"sboms": args.sboms, "components_per_sbom": args.components if args.sboms else 0}
        )
        built = build(db, args, folder)
        pools = built.pop("pool")
        result["build"] = built
        stores = {"mamori": db}
        if args.baseline:
            stores["mamori_baseline"] = copy()
        if args.keep:
            result["database_urls"] = stores
        files = [
            draw_sbom(pools, args.seed + i, args.upload_components, folder / f"upload-{i}.cdx.json")
            for i in range(args.runs + 1)
        ]
        whole: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
        with contextlib.ExitStack() as stack:
            clients = {}
            for side, src in sides.items():
                key = admin_key(stores[side], src)
                url = stack.enter_context(serve(stores[side], src))
                clients[side] = stack.enter_context(
                    httpx.Client(base_url=url, headers={"X-Api-Key": key}, timeout=600)
                )
            result["load_average_whole_start"] = list(os.getloadavg())
            for i in range(args.runs):
                order = list(sides) if i % 2 == 0 else list(reversed(sides))
                for side in order:
                    whole[side].append(
                        upload(clients[side], files[i], "bench-upload", str(i + 1), args.poll_ms / 1000)
                    )
            result["load_average_whole_end"] = list(os.getloadavg())
        result["whole_process"] = {
            side: {
                "seconds": summary([r["seconds"] for r in runs]),
                "first_upload_s": runs[0]["seconds"],
                "after_first": summary([r["seconds"] for r in runs[1:]]) if len(runs) > 1 else None,
                "runs": runs,
            }
            for side, runs in whole.items()
        }
        if args.baseline:
            same = [
                stored_rows(stores["mamori"], "bench-upload", str(i + 1))
                == stored_rows(stores["mamori_baseline"], "bench-upload", str(i + 1))
                for i in range(args.runs)
            ]
            result["identical"] = all(same)
        result["phases"] = {
            side: phases(stores[side], files[-1], "bench-phases", src) for side, src in sides.items()
        }
        if args.baseline:
            result["identical_phases_upload"] = stored_rows(
                stores["mamori"], "bench-phases", "1"
            ) == stored_rows(stores["mamori_baseline"], "bench-phases", "1")
        result["load_average_end"] = list(os.getloadavg())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
