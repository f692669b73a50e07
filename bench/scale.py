"""Scale-out on PostgreSQL: the sharded re-match with 1 and 2 worker processes, queue throughput, per-shard
costs, table sizes, and feed update → notification latency (docs/scale.md has the figures).

Every measurement works on its own copy of a *template* database (``CREATE DATABASE … TEMPLATE …``),
dropped afterwards; the template is never written. Sub-commands, each printing one JSON object:

- ``build --template NAME --sboms N --components M``: a template of its own: ../shared/data (OSV, NVD,
  KEV, purl2cpe) imported into a new PostgreSQL database and a portfolio of N × M real packages stored
  (the generator of bench/portfolio.py, layout "products"), then one full in-process re-match.
- ``rematch --template NAME [--runs 3] [--shard-size 4000]``: a full sharded re-match with 1, then 2
  ``mamori worker`` processes (prefork pool, RabbitMQ), rounds alternating which goes first; for each run
  the wall time from submit until the run is closed, the CPU seconds of the worker processes and of the
  PostgreSQL backends of the copy, the shards' own seconds; every run's findings compared with those of
  one in-process run on another copy (``identical_findings``).
- ``throughput --template NAME [--noop 300] [--uploads 24]``: tasks/s of no-op tasks and of real ones
  (uploaded SBOMs of ``--components`` packages stored and matched) with 1 and 2 worker processes.
- ``sizes --template NAME``: rows and ``pg_total_relation_size`` of every table, per release and per finding.
- ``events --template NAME [--runs 3] --peer-src OTHER/src [--peer-revision REV] [--touch]``: CPU seconds
  of one :func:`mamori.notify.compute_events` on a portfolio whose state is recorded (a baseline computed
  first by each side's code, not timed), this code against the peer's (the previous code), each side on a
  copy of its own (``--peer-revision``: the peer's copy taken back to its newest migration), each call in
  a process of its own, rounds alternating which goes first. The store is unchanged between calls (the
  scheduler's every-5-minutes run); ``--touch``: a one-line EPSS import first (not timed) changes the
  store-wide state, as a feed sync does, so every open finding is decided again.
- ``latency --template NAME [--runs 1]``: a new OSV record affecting components of the portfolio is
  imported; the scheduler's path runs on the workers (changed-only re-match in shards, then events
  computed and delivered); seconds from the import's end until a loopback webhook receives the first
  event. ``--runs``: that many records one after another on one copy (the baseline of events, computed
  first and not timed, once); the median of the runs.

Usage: .venv/bin/python bench/scale.py SUB-COMMAND [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] …
Not run by pytest. Skips (exit 3) when PostgreSQL or RabbitMQ does not answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from jobs import count_done, delete_queues, stop, worker  # noqa: E402  (the worker processes of bench/jobs.py)

BROKER = os.environ.get("MAMORI_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
PG = os.environ.get("MAMORI_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MAMORI = str(Path(sys.executable).with_name("mamori"))
TICK = os.sysconf("SC_CLK_TCK")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# -- databases ---------------------------------------------------------------------------------------
def _admin(pg: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(pg, isolation_level="AUTOCOMMIT")


def url_of(pg: str, name: str) -> str:
    from sqlalchemy import make_url

    return make_url(pg).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def copy_of(pg: str, template: str, tag: str = "run") -> Iterator[str]:
    """A fresh copy of the template (``mamori_scale_<tag>_<random>``), dropped afterwards."""
    name = f"mamori_scale_{tag}_{secrets.token_hex(4)}"
    admin = _admin(pg)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield url_of(pg, name)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def build(pg: str, template: str, sboms: int, components: int, seed: int) -> dict[str, Any]:
    import portfolio as gen  # bench/portfolio.py
    from mamori.jobs.shards import rematch_in_shards
    from mamori.store import open_store
    from mamori.vulndb import Blob, import_blobs, import_path
    from mamori.vulndb.coverage import CoverageClaim

    admin = _admin(pg)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{template}"')
    admin.dispose()
    db = url_of(pg, template)
    started = time.perf_counter()
    with open_store(db) as store:
        blobs = [Blob(str(p), p.read_bytes()) for p in sorted((gen.DATA / "osv").rglob("*")) if p.is_file()]
        import_blobs(store, blobs, origin=str(gen.DATA / "osv"), complete=[CoverageClaim("osv")])
        for name in ("nvd", "kev", "purl2cpe"):
            import_path(store, gen.DATA / name, complete=[CoverageClaim(name)] if name == "nvd" else [])
    imported = time.perf_counter() - started
    pools = gen.package_pool(db)
    with tempfile.TemporaryDirectory() as scratch:
        files = gen.write_sboms(Path(scratch), pools, sboms, components, "products", seed)
        stored = gen.store_all(db, files)
    with open_store(db) as store:
        start = time.perf_counter()
        summary = rematch_in_shards(store)
        matched = time.perf_counter() - start
    return {
        "template": template,
        "sboms": sboms,
        "components": components,
        "import_seconds": round(imported, 1),
        "store": stored,
        "first_full_rematch_seconds": round(matched, 1),
        "open_findings": summary.open_findings,
        "load_average": load(),
    }


# -- processes ------------------------------------------------------------------------------------
def _stat(pid: str) -> tuple[int, float] | None:
    """(process group, CPU seconds user+system) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / TICK


def group_cpu(pgid: int) -> dict[str, float]:
    """CPU seconds of every live process of a process group (a worker and its pool), by pid."""
    out: dict[str, float] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (st := _stat(pid)) is not None and st[0] == pgid:
            out[pid] = st[1]
    return out


def backend_cpu(database: str) -> float:
    """CPU seconds of the live PostgreSQL backends connected to ``database``."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        is_backend = cmd.startswith(b"postgres: ") and f" {database} ".encode() in cmd
        if is_backend and (st := _stat(pid)) is not None:
            total += st[1]
    return total


def warm(store: Any, dispatcher: Any, times: int) -> None:
    """Probes through the workers first: their pool processes started and connected to the store."""
    jobs = [dispatcher.submit("probe", seconds=0.3) for _ in range(times)]
    while count_done(store, jobs) < len(jobs):
        time.sleep(0.05)


@contextlib.contextmanager
def workers(
    db: str, concurrency: int, folder: Path, src: Path | None = None
) -> Iterator[tuple[Any, Any, subprocess.Popen[bytes]]]:
    """``mamori worker`` with ``concurrency`` processes on queues of its own; (store, dispatcher, process)."""
    from mamori.jobs.dispatch import Dispatcher
    from mamori.jobs.settings import Queues
    from mamori.store import open_store

    prefix = f"mamori-scale-{uuid.uuid4().hex[:8]}"
    proc = worker(db, prefix, concurrency, folder / "worker.log", src)
    try:
        with open_store(db) as store:
            dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
            warm(store, dispatcher, concurrency * 2)
            try:
                yield store, dispatcher, proc
            finally:
                dispatcher.shutdown()
                store.engine.dispose()
    finally:
        stop(proc)
        delete_queues(prefix)


def findings(store: Any) -> list[tuple[Any, ...]]:
    from sqlalchemy import select

    from mamori.portfolio import tables as t

    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    stmt = select(
        f.c.release_id, m.c.component_id, m.c.vuln_id, m.c.digest, f.c.resolved_run.is_(None), f.c.priority
    ).join(m, m.c.id == f.c.match_id)
    with store.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(stmt))


def _shard_results(store: Any, run_id: int) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from mamori.jobs.tables import JobDedupRow

    d = JobDedupRow.__table__
    with store.engine.connect() as conn:
        rows = conn.execute(select(d.c.result).where(d.c.key.like(f"rematch:{run_id}:%"))).all()
    return sorted((json.loads(r) for (r,) in rows if r), key=lambda r: r["shard"])


def sharded_run(
    pg: str, template: str, concurrency: int, size: int, folder: Path, src: Path | None = None
) -> dict[str, Any]:
    """One full sharded re-match on a fresh copy with ``concurrency`` worker processes."""
    from sqlalchemy import make_url, select

    from mamori.portfolio import tables as t

    with (
        copy_of(pg, template, f"w{concurrency}") as db,
        workers(db, concurrency, folder, src) as (store, disp, proc),
    ):
        name = str(make_url(db).database)
        r = t.RunRow.__table__
        with store.engine.connect() as conn:
            before_run = conn.scalar(select(r.c.id).order_by(r.c.id.desc()).limit(1)) or 0
        cpu0, pg0, load0 = group_cpu(proc.pid), backend_cpu(name), load()
        start = time.perf_counter()
        disp.submit("rematch", size=size)
        while True:
            with store.engine.connect() as conn:
                done = conn.scalar(select(r.c.id).where(r.c.done.is_(True), r.c.id > before_run))
            if done:
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        cpu1, pgcpu = group_cpu(proc.pid), backend_cpu(name) - pg0
        per_process = sorted((round(v - cpu0.get(pid, 0.0), 2) for pid, v in cpu1.items()), reverse=True)
        shards = _shard_results(store, int(done))
        return {
            "workers": concurrency,
            "code": "peer" if src else "this",
            "seconds": round(seconds, 2),
            "worker_cpu_seconds": round(sum(per_process), 2),
            "worker_cpu_seconds_per_process": per_process,
            "postgres_cpu_seconds": round(pgcpu, 2),
            "shards": len(shards),
            "shard_seconds_sum": round(sum(s["seconds"] for s in shards), 2),
            "shard_cpu_seconds_sum": round(sum(s.get("cpu_seconds", 0.0) for s in shards), 2),
            "shard_seconds": [s["seconds"] for s in shards],
            "shard_cpu_seconds": [s.get("cpu_seconds") for s in shards],
            "shard_components": [s["components"] for s in shards],
            "load_average": [load0, load()],
            "findings": findings(store),
        }


def reference(pg: str, template: str, size: int) -> dict[str, Any]:
    """The same portfolio re-matched in this process, shard after shard (the comparison's reference)."""
    from mamori.jobs.shards import rematch_in_shards
    from mamori.store import open_store

    with copy_of(pg, template, "ref") as db, open_store(db) as store:
        cpu0, start = time.process_time(), time.perf_counter()
        summary = rematch_in_shards(store, size=size)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
        found = findings(store)
        store.engine.dispose()
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "components": summary.components,
        "placements": summary.placements,
        "open_findings": summary.open_findings,
        "findings": found,
    }


def rematch_bench(pg: str, template: str, runs: int, size: int, peer: Path | None) -> dict[str, Any]:
    """``runs`` rounds of 1 and 2 worker processes (and the peer code's, with ``peer``), alternating."""
    load_before = load()
    sides = [None, peer] if peer else [None]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        ref = reference(pg, template, size)
        rows = ref.pop("findings")
        out: dict[str, list[dict[str, Any]]] = {}
        identical = True
        for round_no in range(runs):
            order = [(n, src) for src in sides for n in (1, 2)]
            for n, src in order if round_no % 2 == 0 else order[::-1]:
                run = sharded_run(pg, template, n, size, folder, src)
                identical = identical and run.pop("findings") == rows
                out.setdefault(f"{run['code']}_{n}", []).append(run)

    def med(key: str, field: str) -> float:
        return round(statistics.median(r[field] for r in out[key]), 2)

    summary = {
        key: {
            "median_seconds": med(key, "seconds"),
            "median_worker_cpu_seconds": med(key, "worker_cpu_seconds"),
            "median_postgres_cpu_seconds": med(key, "postgres_cpu_seconds"),
            "median_busiest_process_cpu_seconds": round(
                statistics.median(r["worker_cpu_seconds_per_process"][0] for r in out[key]), 2
            ),
        }
        for key in sorted(out)
    }
    ratios = {
        code: {
            "wall": round(summary[f"{code}_1"]["median_seconds"] / summary[f"{code}_2"]["median_seconds"], 2),
            "busiest_process_cpu": round(
                summary[f"{code}_1"]["median_busiest_process_cpu_seconds"]
                / summary[f"{code}_2"]["median_busiest_process_cpu_seconds"],
                2,
            ),
        }
        for code in ("this", "peer")
        if f"{code}_2" in summary
    }
    return {
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load(),
        "store": "PostgreSQL 127.0.0.1:5432",
        "broker": "RabbitMQ 127.0.0.1:5672",
        "template": template,
        "shard_size": size,
        "peer_src": str(peer) if peer else None,
        "in_process": ref,
        "summary": summary,
        "speed_up_1_to_2": ratios,
        "identical_findings": identical,
        "runs": out,
    }


# -- table sizes -------------------------------------------------------------------------------------
PORTFOLIO_TABLES = {
    "product",
    "product_release",
    "release_sbom",
    "sbom_component",
    "portfolio_component",
    "portfolio_component_cpe",
    "portfolio_match",
    "portfolio_finding",
    "portfolio_run",
    "portfolio_record_seen",
    "product_context",
}


def sizes(pg: str, template: str) -> dict[str, Any]:
    """Rows and bytes (``pg_total_relation_size``: table, indexes, TOAST) of every table of a fresh copy."""
    from sqlalchemy import create_engine

    with copy_of(pg, template, "size") as db:
        engine = create_engine(db)
        with engine.connect() as conn:
            names = [
                n
                for (n,) in conn.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                )
            ]
            tables = {}
            for name in names:
                rows = conn.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar()
                size = conn.exec_driver_sql(f"SELECT pg_total_relation_size('\"{name}\"')").scalar()
                tables[name] = {"rows": int(rows or 0), "bytes": int(size or 0)}
            database = int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() or 0)
        engine.dispose()
    portfolio = {k: v for k, v in tables.items() if k in PORTFOLIO_TABLES}
    releases = tables.get("product_release", {}).get("rows", 0)
    finding_rows = tables.get("portfolio_finding", {}).get("rows", 0)
    per_finding = tables["portfolio_finding"]["bytes"] / finding_rows if finding_rows else None
    match_rows = tables.get("portfolio_match", {}).get("rows", 0)
    return {
        "template": template,
        "load_average": load(),
        "database_bytes": database,
        "portfolio_bytes": sum(v["bytes"] for v in portfolio.values()),
        "other_bytes": sum(v["bytes"] for k, v in tables.items() if k not in PORTFOLIO_TABLES),
        "releases": releases,
        "portfolio_bytes_per_release": round(sum(v["bytes"] for v in portfolio.values()) / releases)
        if releases
        else None,
        "finding_bytes_per_finding_row": round(per_finding, 1) if per_finding else None,
        "match_bytes_per_match_row": round(tables["portfolio_match"]["bytes"] / match_rows, 1)
        if match_rows
        else None,
        "tables": dict(sorted(tables.items(), key=lambda kv: -kv[1]["bytes"])),
    }


# -- throughput ----------------------------------------------------------------------------------------
def throughput(
    pg: str, template: str, noop: int, uploads_count: int, components: int, seed: int
) -> dict[str, Any]:
    """Tasks/s with 1 and 2 worker processes: ``noop`` probes, then ``uploads_count`` uploaded SBOMs."""
    import random

    import portfolio as gen  # bench/portfolio.py
    from mamori.portfolio import uploads

    load_before = load()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with copy_of(pg, template, "pool") as db:
            pools = gen.package_pool(db)
        extra = gen.write_sboms(folder, pools, uploads_count, components, "independent", seed + 1)
        random.Random(seed).shuffle(extra)
        for n in (1, 2):
            with copy_of(pg, template, f"tp{n}") as db, workers(db, n, folder) as (store, disp, _proc):
                start = time.perf_counter()
                ids = [disp.submit("probe") for _ in range(noop)]
                submitted = time.perf_counter() - start
                while count_done(store, ids) < len(ids):
                    time.sleep(0.05)
                seconds = time.perf_counter() - start
                row: dict[str, Any] = {
                    "noop": {
                        "tasks": noop,
                        "seconds": round(seconds, 2),
                        "tasks_per_s": round(noop / seconds, 1),
                        "submit_per_s": round(noop / submitted, 1),
                        "load_average": load(),
                    }
                }
                tokens = [
                    uploads.submit_upload(store, p.read_bytes(), p.name, "uploaded", p.stem, True, "bench")
                    for _, _, p in extra
                ]
                start = time.perf_counter()
                ids = [disp.submit("upload", token=t) for t in tokens]
                while count_done(store, ids) < len(ids):
                    time.sleep(0.1)
                seconds = time.perf_counter() - start
                row["uploads"] = {
                    "tasks": len(ids),
                    "components_each": components,
                    "seconds": round(seconds, 2),
                    "tasks_per_s": round(len(ids) / seconds, 2),
                    "states": sorted({uploads.upload_status(store, t).state for t in tokens}),
                    "errors": sorted(
                        {str(st.error) for t in tokens if (st := uploads.upload_status(store, t)).error}
                    ),
                    "load_average": load(),
                }
                out[f"workers_{n}"] = row
    return {"template": template, "load_average_before": load_before, "load_average_after": load(), **out}


# -- feed update → notification latency ---------------------------------------------------------------
def _receiver() -> tuple[Any, str, list[tuple[float, bytes]]]:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    got: list[tuple[float, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1 << 20))
            got.append((time.perf_counter(), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook", got


def _record(conn: Any) -> tuple[bytes, str, int]:
    """A new OSV record (real OSV schema) for the PyPI package the most releases list, at the versions
    they list; (its JSON, its id, releases affected)."""
    from datetime import UTC, datetime

    rows = conn.exec_driver_sql(
        "SELECT c.name_key, c.version, count(DISTINCT r.id) FROM portfolio_component c"
        " JOIN sbom_component sc ON sc.component_id = c.id"
        " JOIN product_release r ON r.current_sbom_id = sc.sbom_id"
        " WHERE c.ecosystem = 'PyPI' GROUP BY c.name_key, c.version"
    ).all()
    per_package: dict[str, int] = {}
    for name, _version, n in rows:
        per_package[name] = per_package.get(name, 0) + int(n)
    name = max(sorted(per_package), key=lambda k: per_package[k])
    versions = sorted({v for n, v, _ in rows if n == name and v})
    vuln_id = f"MAMORI-BENCH-{secrets.token_hex(4).upper()}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {
        "schema_version": "1.6.0",
        "id": vuln_id,
        "modified": stamp,
        "published": stamp,
        "summary": "Benchmark record: a new advisory for a package the portfolio lists",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": name}, "versions": versions}],
    }
    return json.dumps(doc).encode(), vuln_id, per_package[name]


def latency(pg: str, template: str, concurrency: int, runs: int = 1) -> dict[str, Any]:
    """``runs`` feed updates one after another on one copy (its baseline of events computed once, not
    timed), each a new OSV record for the same package: seconds from the import's end until the webhook
    receives the record's first event, and until the notify job that sent them is done."""
    from sqlalchemy import select

    from mamori import accounts
    from mamori.jobs.shards import rematch_in_shards
    from mamori.notify import add_subscription, compute_events
    from mamori.portfolio import changes
    from mamori.portfolio import tables as t
    from mamori.store import open_store

    load_before = load()
    # the receiver is on loopback: the operator's explicit allowance (this process and the workers)
    os.environ.setdefault("MAMORI_NOTIFY_ALLOW_NETWORKS", "127.0.0.1/32")
    server, url, got = _receiver()
    out: dict[str, Any] = {"template": template, "worker_processes": concurrency, "runs": []}
    try:
        with tempfile.TemporaryDirectory() as scratch, copy_of(pg, template, "lat") as db:
            folder = Path(scratch)
            with open_store(db) as store:  # set-up, not timed
                with store.engine.connect() as conn:
                    marks = changes.last_marks(conn)
                if marks is None:
                    rematch_in_shards(store)  # a changed-only run needs an earlier one
                accounts.create_team(store, "psirt")
                p = t.ProductRow.__table__
                with store.engine.connect() as conn:
                    products = [n for (n,) in conn.execute(select(p.c.name).order_by(p.c.name))]
                for product in products:
                    accounts.assign_product(store, "psirt", product)
                add_subscription(store, "psirt", "webhook", url, secret="bench-secret-0123456789")
                start = time.perf_counter()
                baseline = compute_events(store, baseline=True)
                out["baseline_events"] = len(baseline.events)
                out["baseline_seconds"] = round(time.perf_counter() - start, 2)
                store.engine.dispose()
            with workers(db, concurrency, folder) as (store, disp, _proc):
                for _ in range(runs):
                    out["runs"].append(_one_update(store, disp, got))
    finally:
        server.shutdown()
        server.server_close()
    first = [r["import_end_to_first_webhook_seconds"] for r in out["runs"]]
    out["import_end_to_first_webhook_seconds_median"] = round(statistics.median(first), 2)
    out["goal_seconds"] = 60
    return {"load_average_before": load_before, **out, "load_average_after": load()}


def _one_update(store: Any, disp: Any, got: list[tuple[float, bytes]]) -> dict[str, Any]:
    """One new OSV record imported, the changed-only re-match sent (what the sync job sends after an
    import), until the webhook received its events and the notify job that sent them is done."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from mamori.jobs import records
    from mamori.jobs.tables import JobRow
    from mamori.portfolio import tables as t
    from mamori.vulndb import Blob, import_blobs

    j = JobRow.__table__

    def done_notify() -> set[str]:
        with store.engine.connect() as conn:
            return set(conn.scalars(select(j.c.id).where(j.c.kind == "notify", j.c.state == records.DONE)))

    with store.engine.connect() as conn:
        body, vuln_id, releases = _record(conn)
    seen_jobs = done_notify()
    load0 = load()
    cpu0 = os.times()
    start = time.perf_counter()
    import_blobs(store, [Blob(f"bench/{vuln_id}.json", body)], origin="bench")
    imported, imported_at = time.perf_counter(), datetime.now(UTC)
    disp.submit("rematch", changed_only=True)
    while not any(vuln_id.encode() in b for _, b in got):
        if time.perf_counter() - imported > 1800:
            raise SystemExit("no notification within 1800 s")
        time.sleep(0.02)
    first = min(at for at, b in got if vuln_id.encode() in b)
    while not (fresh := done_notify() - seen_jobs):
        time.sleep(0.05)
    finished = time.perf_counter()
    last = max(at for at, b in got if vuln_id.encode() in b)
    job = records.get(store, sorted(fresh)[0])
    r = t.RunRow.__table__
    with store.engine.connect() as conn:
        run = conn.execute(
            select(r.c.mode, r.c.components, r.c.placements, r.c.opened, r.c.seconds)
            .where(r.c.done.is_(True))
            .order_by(r.c.id.desc())
            .limit(1)
        ).one()
        jobs = conn.execute(
            select(j.c.kind, j.c.started_at, j.c.finished_at)
            .where(
                j.c.kind != "probe", j.c.started_at.is_not(None), j.c.started_at >= imported_at.isoformat()
            )
            .order_by(j.c.started_at)
        ).all()

    def offset(at: str | None) -> float | None:
        if not at:
            return None
        return round((datetime.fromisoformat(at.replace("Z", "+00:00")) - imported_at).total_seconds(), 2)

    return {
        "record": {"id": vuln_id, "releases_listing_the_package": releases},
        "import_seconds": round(imported - start, 3),
        "import_end_to_first_webhook_seconds": round(first - imported, 2),
        "import_end_to_last_webhook_seconds": round(last - imported, 2),
        "import_end_to_notify_done_seconds": round(finished - imported, 2),
        "run": dict(run._mapping),
        "notify_job": job.result if job else None,
        "jobs_after_import_end": [
            {"kind": kind, "started": offset(a), "finished": offset(b)} for kind, a, b in jobs
        ],
        "webhook_posts": sum(1 for _, b in got if vuln_id.encode() in b),
        "bench_process_cpu_seconds": round(sum(os.times()[:2]) - sum(cpu0[:2]), 2),
        "load_average": [load0, load()],
    }


# -- compute_events CPU, this code against the peer's ----------------------------------------------------
def _touch_epss(store: Any) -> None:
    """Import a one-line EPSS file dated now: the knowledge base's state changes (as after a feed sync),
    no finding's EPSS does (a CVE no portfolio package has)."""
    from mamori.vulndb import import_path

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "epss.csv"
        day = time.strftime("%Y-%m-%d", time.gmtime())
        path.write_text(
            f"#model_version:v2025.03.14,score_date:{day}T00:00:00+0000\ncve,epss,percentile\n"
            f"CVE-1999-0001,{secrets.randbelow(1000) / 100000:.5f},0.10000\n",
            encoding="utf-8",
        )
        import_path(store, path)


def events_one(db: str, baseline: bool = False, touch: bool = False) -> dict[str, Any]:
    """One compute_events in this process (the code on sys.path): its CPU and wall seconds; ``touch``:
    the store-wide state changed first (not timed)."""
    from mamori.notify import compute_events
    from mamori.store import open_store

    with open_store(db) as store:
        if touch:
            _touch_epss(store)
        cpu, wall = time.process_time(), time.perf_counter()
        computed = compute_events(store, baseline=baseline)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "process_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),  # whole process, imports too
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "events": len(computed.events),
    }


def _events_in(src: Path, db: str, *flags: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, __file__, "events-one", "--template", "-", "--db", db, *flags],
        env=env,
        capture_output=True,
        timeout=3600,
    )
    if out.returncode != 0:
        raise SystemExit(f"events-one in {src}: {out.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(out.stdout)


def _downgrade(db: str, revision: str) -> None:
    """The copy's schema taken back to ``revision`` (the peer's newest) with this code's migrations."""
    from alembic import command

    from mamori.store import open_store
    from mamori.store.engine import alembic_config

    with open_store(db) as store:
        config = alembic_config()
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, revision)


def events_bench(
    pg: str, template: str, runs: int, peer: Path | None, touch: bool, peer_revision: str | None
) -> dict[str, Any]:
    """Each side on a copy of its own (its baseline computed by its own code, not timed), then ``runs``
    calls each, rounds alternating which side goes first."""
    if peer is None:
        raise SystemExit("events: --peer-src (the src folder of the previous code) is required")
    own = REPO / "src"
    sides: dict[str, list[dict[str, Any]]] = {"this": [], "peer": []}
    baselines: dict[str, dict[str, Any]] = {}
    loads = [load()]
    with copy_of(pg, template, "events_this") as this_db, copy_of(pg, template, "events_peer") as peer_db:
        if peer_revision:
            _downgrade(peer_db, peer_revision)
        dbs = {"this": this_db, "peer": peer_db}
        for side in ("peer", "this"):
            baselines[side] = _events_in(peer if side == "peer" else own, dbs[side], "--baseline")
        flags = ("--touch",) if touch else ()
        for i in range(runs):
            order = ["peer", "this"] if i % 2 == 0 else ["this", "peer"]
            for side in order:
                sides[side].append(_events_in(peer if side == "peer" else own, dbs[side], *flags))
            loads.append(load())

    def med(side: str, field: str) -> float:
        return round(statistics.median(r[field] for r in sides[side]), 2)

    return {
        "template": template,
        "store_wide_state_changed_before_each_call": touch,
        "process_cpu_seconds_median": {
            "this": med("this", "process_cpu_seconds"),
            "peer": med("peer", "process_cpu_seconds"),
        },
        "cpu_seconds_median": {"this": med("this", "cpu_seconds"), "peer": med("peer", "cpu_seconds")},
        "wall_seconds_median": {"this": med("this", "wall_seconds"), "peer": med("peer", "wall_seconds")},
        "cpu_ratio_peer_over_this": round(
            med("peer", "cpu_seconds") / max(med("this", "cpu_seconds"), 0.01), 2
        ),
        "baselines": baselines,
        "runs": sides,
        "load_average": loads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", choices=["build", "rematch", "throughput", "sizes", "latency", "events", "events-one"]
    )
    parser.add_argument("--db", help="events-one: the database URL of the copy")
    parser.add_argument("--pg", default=PG)
    parser.add_argument("--template", required=True)
    parser.add_argument("--sboms", type=int, default=200)
    parser.add_argument("--components", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--noop", type=int, default=300)
    parser.add_argument("--uploads", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shard-size", type=int, default=4000)
    parser.add_argument(
        "--peer-src", type=Path, help="the src folder of another checkout (the previous code)"
    )
    parser.add_argument(
        "--peer-revision", help="events: the peer's newest migration (its copy is taken back)"
    )
    parser.add_argument("--baseline", action="store_true", help="events-one: a baseline computation")
    parser.add_argument(
        "--touch", action="store_true", help="events: the store-wide state changes before each call"
    )
    args = parser.parse_args()
    if args.command == "build":
        out = build(args.pg, args.template, args.sboms, args.components, args.seed)
    elif args.command == "rematch":
        out = rematch_bench(args.pg, args.template, args.runs, args.shard_size, args.peer_src)
    elif args.command == "sizes":
        out = sizes(args.pg, args.template)
    elif args.command == "throughput":
        out = throughput(args.pg, args.template, args.noop, args.uploads, args.components, args.seed)
    elif args.command == "events":
        out = events_bench(args.pg, args.template, args.runs, args.peer_src, args.touch, args.peer_revision)
    elif args.command == "events-one":
        out = events_one(args.db, args.baseline, args.touch)
    else:
        out = latency(args.pg, args.template, args.workers, args.runs)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
