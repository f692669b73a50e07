"""Team server speed: the read endpoints on a large portfolio, an SBOM upload, and a loopback load test.

1. Builds a portfolio the way bench/portfolio.py does (../shared/data imported; ``--sboms`` SBOMs of
   ``--components`` real packages, 8 releases per product; every release matched by a full
   ``mamori portfolio rematch``, then ``VACUUM ANALYZE`` on PostgreSQL) in a throw-away PostgreSQL database (``mamori_bench_<pid>``, on the
   server of ``--pg-url``, default ``$MAMORI_BENCH_PG_URL``; dropped at the end unless ``--keep``) or,
   with ``--sqlite FILE``, in a SQLite file.
2. Starts ``mamori serve`` on that store in its own process (loopback, a free port) and asks it with an
   administrator's API key, one request at a time after 3 warm-up requests, ``--requests`` times each:
   the findings list (first page; a deep page, by offset and by cursor — the cursor of the page before
   it asked once, untimed; filtered by severity), one release's findings, the
   products list (the native API's portfolio summary: every product, its releases and their open
   findings), the web portfolio dashboard (``/portfolio``, signed in as an administrator) and
   Dependency-Track's ``GET /api/v1/project``.
   Each: median, p95, min and max in milliseconds (nearest-rank p95). Every request has a time limit
   (``--timeout``, 30 s): an endpoint slower than that is reported with how many requests completed, the
   server is restarted (it may still be busy with the abandoned request) and the remaining endpoints are
   asked; an endpoint that fails is reported with its error. wrk gets the same limit; the bench always
   ends by printing its JSON, with ``failed`` naming what stopped a part early.
3. Uploads one ``--upload-components`` SBOM through ``PUT /api/v1/bom`` and polls
   ``/api/v1/bom/token/{token}`` every 20 ms: seconds from the submit to ``processing: false``.
4. With ``wrk`` on the PATH: ``--wrk-seconds`` of load on each main read endpoint (2 threads,
   8 connections), requests/s and p50/p95/p99 latency as wrk measures them.
5. In-process, the same findings queries through :func:`mamori.server.api_findings.find` (SQL paging)
   and the Python path it replaced (:func:`mamori.server.api_findings.find_in_python`), alternating
   A B A B ``--requests`` times: wall and CPU (user+sys) seconds, and whether the answers are identical.

Usage: .venv/bin/python bench/server.py [--sboms 2000] [--components 200] [--requests 50] [--keep]
       [--name DBNAME] [--build-only] [--timeout 30]
       [--reuse DBNAME]  (a database an earlier --keep run left; it is migrated, not built again)
Prints one JSON object; not run by pytest. Caches: PostgreSQL's buffer cache and the OS file cache are
warm after the warm-up requests (both paths alike); mamori keeps no result cache between requests
except the findings lists' KEV decision and scope counts, valid until the next re-match run or KEV change.
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import portfolio as bench_portfolio

MAMORI = str(Path(sys.executable).with_name("mamori"))
V1 = "/api/mamori/v1"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("WRK {\\"requests\\": %d, \\"errors\\": %d, \\"seconds\\": %.3f, \\"p50_ms\\": %.2f, \\"p95_ms\\": %.2f, \\"p99_ms\\": %.2f}\\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def stats(samples: list[float]) -> dict[str, Any]:
    """Milliseconds: median, p95 (nearest rank), min, max."""
    ordered = sorted(samples)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    p95 = ordered[max(0, -(-95 * n // 100) - 1)]
    return {
        "n": n,
        "median_ms": round(median * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "min_ms": round(ordered[0] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def make_url_of(server: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    if args.sqlite:
        yield str(args.sqlite)
        return
    if args.reuse:  # a database an earlier --keep run left: neither built nor dropped
        yield make_url_of(args.pg_url, args.reuse)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(args.pg_url)
    name = args.name or f"mamori_bench_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build(db: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    imported = bench_portfolio.import_store(db, [])
    pools = bench_portfolio.package_pool(db)
    sboms = folder / "sboms"
    sboms.mkdir()
    files = bench_portfolio.write_sboms(sboms, pools, args.sboms, args.components, "products", args.seed)
    stored = bench_portfolio.store_all(db, files)
    rematch = bench_portfolio.cli_rematch(db, changed_only=False)
    vacuum_analyze(db)
    upload = _draw_sbom(pools, rng, args.upload_components, folder / "upload.cdx.json")
    return {"import_seconds": imported, "store_sboms": stored, "full_rematch": rematch, "upload_file": upload}


def vacuum_analyze(db: str) -> None:
    """PostgreSQL: ``VACUUM ANALYZE`` after the bulk load, as autovacuum would do some time later (without
    it the planner sees the tables as they were before the load: a count of 863,921 open findings took
    1.75 s instead of 0.39 s, and pages were planned for a few thousand findings)."""
    if not db.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(db, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def _draw_sbom(pools: Any, rng: random.Random, size: int, path: Path) -> str:
    from mamori.model.sbom import Component, Document, Tool
    from mamori.sbom import write

    # more components than distinct packages in the pool: several versions of a package, as in a
    # monorepo's or an image's SBOM
    every = sorted({(base, v) for pool in pools for base, versions in pool.items() for v in versions})
    chosen = rng.sample(every, min(size, len(every)))
    components = [
        Component(base.rsplit("/", 1)[-1], version, purl=f"{base}@{version}", bom_ref=f"{base}@{version}")
        for base, version in sorted(chosen)
    ]
    write(Document(name="upload", components=components, tools=[Tool("bench/server.py")]), path)
    return str(path)


def admin_key(db: str) -> tuple[str, str]:
    """An administrator's API key and a signed-in web session of an administrator (a team and user
    ``bench-<pid>``, so that a reused database takes another)."""
    from mamori import accounts
    from mamori.store import open_store

    team = f"bench-{os.getpid()}"
    with open_store(db) as store:
        accounts.create_team(store, team)
        key = accounts.create_api_key(store, team, "admin")[1]
        user, _password = accounts.create_user(store, team, None, team, "admin")
        session = accounts.create_session(store, user.id, 24 * 3600)[0]
    return key, session


@contextlib.contextmanager
def serve(db: str) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [MAMORI, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:  # still inside a slow request
            proc.kill()
            proc.wait(15)


def endpoints(client: httpx.Client) -> dict[str, str]:
    products = client.get(V1 + "/products").json()
    release = client.get(f"{V1}/products/{products[0]['id']}/releases").json()[0]["id"]
    # the same page 101 by cursor: the cursor the page before it gives (asked once, not timed)
    before = client.get(f"{V1}/findings?limit=50&offset=4950").json()
    cursor = before.get("next_cursor")
    return {
        "findings_first_page": f"{V1}/findings?limit=50",
        "findings_page_100": f"{V1}/findings?limit=50&offset=5000",
        **({"findings_page_100_cursor": f"{V1}/findings?limit=50&cursor={cursor}"} if cursor else {}),
        "findings_critical": f"{V1}/findings?severity=critical&limit=50",
        "findings_component_filter": f"{V1}/findings?component=django&limit=50",
        "release_findings": f"{V1}/releases/{release}/findings?limit=50",
        "products_summary": f"{V1}/products",
        "dashboard_web": "/portfolio",
        "dtrack_projects": "/api/v1/project",
    }


def latency(
    client: httpx.Client, paths: dict[str, str], requests: int, session: str, timeout: float
) -> dict[str, Any]:
    """The web pages (not under /api) are asked signed in (the session cookie), the API with the key.
    Each request may take ``timeout`` seconds: an endpoint that answers slower (or fails) is reported as
    such with what was measured before, and the next endpoint is asked (the server is restarted by the
    caller when one timed out, so that the abandoned request does not load the next ones)."""
    out: dict[str, Any] = {}
    for name, path in paths.items():
        headers = {} if path.startswith("/api/") else {"Cookie": f"mamori_session={session}"}
        samples: list[float] = []
        try:
            for _ in range(3):
                client.get(path, headers=headers, timeout=timeout).raise_for_status()
            for _ in range(requests):
                start = time.perf_counter()
                response = client.get(path, headers=headers, timeout=timeout)
                samples.append(time.perf_counter() - start)
                response.raise_for_status()
        except httpx.TimeoutException:
            out[name] = {"timed_out_after_s": timeout, "completed": len(samples)}
            out[name] |= stats(samples) if samples else {}
            return out | {"_timed_out": name}
        except httpx.HTTPError as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"[:300], "completed": len(samples)}
            continue
        out[name] = stats(samples)
    return out


def upload_seconds(client: httpx.Client, path: str, limit: float) -> dict[str, Any]:
    body = {
        "projectName": "bench-upload",
        "projectVersion": "1",
        "autoCreate": True,
        "bom": base64.b64encode(Path(path).read_bytes()).decode(),
    }
    start = time.perf_counter()
    try:
        response = client.put("/api/v1/bom", json=body, timeout=limit)
        response.raise_for_status()
        token = response.json()["token"]
        while client.get(f"/api/v1/bom/token/{token}", timeout=limit).json()["processing"]:
            if time.perf_counter() - start > limit:
                return {"timed_out_after_s": limit}
            time.sleep(0.02)
    except httpx.HTTPError as exc:
        return {
            "error": f"{type(exc).__name__}: {exc}"[:300],
            "after_s": round(time.perf_counter() - start, 2),
        }
    seconds = time.perf_counter() - start
    status = client.get(f"{V1}/uploads/{token}", timeout=limit).json()
    return {
        "seconds": round(seconds, 2),
        "state": status.get("state"),
        "components": status.get("components"),
    }


def wrk(
    url: str, key: str, paths: dict[str, str], seconds: int, timeout: float, folder: Path
) -> dict[str, Any] | None:
    """wrk's own ``--timeout`` per request (a request slower than that counts as an error), the process
    killed after the run plus that timeout."""
    if shutil.which("wrk") is None:
        return None
    script = folder / "report.lua"
    script.write_text(WRK_SCRIPT)
    out: dict[str, Any] = {}
    for name, path in paths.items():
        try:
            run = subprocess.run(
                ["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", f"{timeout:g}s", "-s", str(script),
                 "-H", f"X-Api-Key: {key}", url + path],
                capture_output=True, text=True, timeout=seconds + timeout + 30, check=True,
            )  # fmt: skip
            line = next(x for x in run.stdout.splitlines() if x.startswith("WRK "))
        except (subprocess.SubprocessError, StopIteration) as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            continue
        result = json.loads(line[4:])
        result["requests_per_second"] = round(result["requests"] / result["seconds"], 1)
        if result["errors"]:
            result["note"] = "requests timed out or failed: latency percentiles are of the completed ones"
        out[name] = result
    return out


def in_process(db: str, requests: int) -> dict[str, Any]:
    """The findings queries through the SQL path and the Python path, alternating; CPU and wall."""
    from mamori.server import api_findings as af
    from mamori.store import open_store

    cases: dict[str, tuple[dict[str, Any], str, int]] = {
        "first_page": ({}, "priority", 0),
        "page_100": ({}, "priority", 5000),
        "critical": ({"severity": {"critical"}}, "priority", 0),
        "by_severity": ({}, "severity", 0),
    }
    out: dict[str, Any] = {}
    with open_store(db) as store:
        for name, (filters, sort, offset) in cases.items():
            sides: dict[str, Callable[[], Any]] = {
                "sql": lambda f=filters, s=sort, o=offset: af.find(
                    store, None, None, af.Filters(**f), s, 50, o, "user"
                ),
                "python": lambda f=filters, s=sort, o=offset: af.find_in_python(
                    store, None, None, af.Filters(**f), s, 50, o, "user"
                ),
            }
            wall: dict[str, list[float]] = {k: [] for k in sides}
            cpu: dict[str, list[float]] = {k: [] for k in sides}
            answers: dict[str, Any] = {}
            if not requests:  # the in-process comparison is skipped
                return {}
            for _ in range(requests):
                for side, call in sides.items():
                    c0, w0 = time.process_time(), time.perf_counter()
                    answers[side] = call()
                    wall[side].append(time.perf_counter() - w0)
                    cpu[side].append(time.process_time() - c0)
            out[name] = {side: {"wall": stats(wall[side]), "cpu": stats(cpu[side])} for side in sides} | {
                "identical": answers["sql"].model_dump() == answers["python"].model_dump()
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sboms", type=int, default=2000)
    parser.add_argument("--components", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per endpoint")
    parser.add_argument("--python-requests", type=int, default=5, help="A/B rounds of the in-process check")
    parser.add_argument("--upload-components", type=int, default=5000)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--pg-url", default=os.environ.get("MAMORI_BENCH_PG_URL"))
    parser.add_argument("--sqlite", type=Path, help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument(
        "--reuse", metavar="DBNAME", help="a PostgreSQL database an earlier --keep run left (not built again)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30, help="seconds one request may take (then it is reported as slow)"
    )
    parser.add_argument(
        "--analyze", action="store_true", help="with --reuse: VACUUM ANALYZE the database first (PostgreSQL)"
    )
    parser.add_argument("--name", help="the new PostgreSQL database's name (default mamori_bench_<pid>)")
    parser.add_argument(
        "--build-only", action="store_true", help="build (and with --keep keep) the portfolio, then stop"
    )
    args = parser.parse_args()
    if not args.sqlite and not args.pg_url:
        parser.error("--pg-url (or MAMORI_BENCH_PG_URL) or --sqlite is needed")
    result: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_start": list(os.getloadavg())}
    with tempfile.TemporaryDirectory() as scratch, database(args) as db:
        folder = Path(scratch)
        result["database"] = "sqlite" if args.sqlite else "postgresql"
        if args.keep:
            result["database_url"] = db
        result["portfolio"] = {"sboms": args.sboms, "components_per_sbom": args.components}
        if args.reuse:
            upload = _draw_sbom(
                bench_portfolio.package_pool(db),
                random.Random(args.seed),
                args.upload_components,
                folder / "up.json",
            )
            result["build"] = {"reused": args.reuse, "upload_file": upload}
            if args.analyze:
                vacuum_analyze(db)
        else:
            result["build"] = build(db, args, folder)
            if args.build_only:
                result["build"].pop("upload_file")
                print(json.dumps(result, indent=2))
                return
        key, session = admin_key(db)
        result["in_process_findings"] = in_process(db, args.python_requests)
        try:
            result |= http_part(db, key, session, args, folder, result["build"].pop("upload_file"))
        except Exception as exc:  # whatever failed, what was measured is printed
            result["failed"] = f"{type(exc).__name__}: {exc}"[:500]
        result["load_average_end"] = list(os.getloadavg())
    print(json.dumps(result, indent=2))


def http_part(
    db: str, key: str, session: str, args: argparse.Namespace, folder: Path, upload: str
) -> dict[str, Any]:
    """Latency per endpoint, wrk, the upload; a fresh server after an endpoint timed out."""
    out: dict[str, Any] = {"request_timeout_s": args.timeout, "latency": {}}
    timeout = httpx.Timeout(args.timeout, connect=10)
    paths: dict[str, str] = {}
    while True:
        with (
            serve(db) as url,
            httpx.Client(base_url=url, headers={"X-Api-Key": key}, timeout=timeout) as client,
        ):
            paths = paths or endpoints(client)
            rest = {k: v for k, v in paths.items() if k not in out["latency"]}
            measured = latency(client, rest, args.requests, session, args.timeout)
            slow = measured.pop("_timed_out", None)
            out["latency"] |= measured
            if slow is not None:  # the server may still be working on it: ask the rest of a new one
                continue
            out["load_average_latency"] = list(os.getloadavg())
            read = {k: paths[k] for k in ("findings_first_page", "release_findings", "products_summary")}
            out["wrk"] = wrk(url, key, read, args.wrk_seconds, args.timeout, folder)
            out["upload"] = upload_seconds(client, upload, max(args.timeout, 120))
            return out


if __name__ == "__main__":
    main()
