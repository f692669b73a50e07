"""Background work on Celery with the real RabbitMQ: queue throughput and the re-match's scale-out.

1. Builds a store from ../shared/data (OSV, NVD, KEV, purl2cpe; CVE 5 with ``--with-cve5``) and a
   portfolio of ``--sboms`` × ``--components`` real packages (the generator of bench/portfolio.py,
   layout "products": releases evolving from their predecessors), stored as ``mamori release add`` does.
2. Throughput (tasks/s), each with real ``mamori worker`` processes (prefork) on queues of the run's
   own (``MAMORI_QUEUE_PREFIX``): ``--noop`` no-op tasks (a probe that records its job row and dedup
   key), then ``--uploads`` real tasks (uploaded SBOMs of ``--components`` packages stored and
   matched); time from the first submit until every job row is ``done``.
3. Scale-out: a full portfolio re-match in shards (``--shard-size`` identities each) on a fresh copy of
   the store, with 1 then 2 worker processes (``--concurrency``), ``--runs`` rounds alternating which
   goes first; wall time from submit until the run is closed; the findings of every run are compared
   with those of one in-process whole run (``identical``).

Usage: .venv/bin/python bench/jobs.py [--sboms 300] [--components 100] [--runs 2] [--keep DIR]
Prints one JSON object; not run by pytest. Skips (exit 3) when RabbitMQ does not answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
BROKER = os.environ.get("MAMORI_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
MAMORI = str(Path(sys.executable).with_name("mamori"))


def build(
    folder: Path, sboms: int, components: int, with_cve5: bool, seed: int
) -> tuple[str, list[Path], dict[str, Any]]:
    import random

    import portfolio as gen  # bench/portfolio.py
    from mamori.store import open_store
    from mamori.vulndb import import_path
    from mamori.vulndb.coverage import CoverageClaim

    db = str(folder / "kb.db")
    started = time.perf_counter()
    if with_cve5:
        gen.import_store(db, [])
    else:
        from mamori.vulndb import Blob, import_blobs

        with open_store(db) as store:
            blobs = [
                Blob(str(p), p.read_bytes()) for p in sorted((gen.DATA / "osv").rglob("*")) if p.is_file()
            ]
            import_blobs(store, blobs, origin=str(gen.DATA / "osv"), complete=[CoverageClaim("osv")])
            for name in ("nvd", "kev", "purl2cpe"):
                import_path(store, gen.DATA / name, complete=[CoverageClaim(name)] if name == "nvd" else [])
    imported = time.perf_counter() - started
    pools = gen.package_pool(db)
    sbom_dir = folder / "sboms"
    sbom_dir.mkdir()
    files = gen.write_sboms(sbom_dir, pools, sboms, components, "products", seed)
    stored = gen.store_all(db, files)
    uploads_dir = folder / "uploads"
    uploads_dir.mkdir()
    extra = gen.write_sboms(uploads_dir, pools, 24, components, "independent", seed + 1)
    rng = random.Random(seed)
    rng.shuffle(extra)
    return db, [p for _, _, p in extra], {"import_seconds": round(imported, 1), "store": stored}


def worker(
    db: str, prefix: str, concurrency: int, log: Path, src: Path | None = None
) -> subprocess.Popen[bytes]:
    """``mamori worker``; ``src``: run the mamori package found there (a peer checkout) instead."""
    env = {**os.environ, "MAMORI_QUEUE_PREFIX": prefix, "MAMORI_LANG": "en"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    args = [MAMORI, "worker", "--broker", BROKER, "--db", db, "--pool", "prefork"]
    args += ["--concurrency", str(concurrency), "--loglevel", "warning"]
    return subprocess.Popen(
        args, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the main process: a warm shutdown of its pool
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def delete_queues(prefix: str) -> None:
    from kombu import Connection

    from mamori.jobs.settings import Queues

    q = Queues(prefix)
    with Connection(BROKER, connect_timeout=2) as conn:
        for name in (*q.names, q.dead):
            with contextlib.suppress(Exception):
                conn.channel().queue_delete(name)
        for name in (q.exchange, q.dead_exchange):
            with contextlib.suppress(Exception):
                conn.channel().exchange_delete(name)


def count_done(store: Any, ids: list[str]) -> int:
    from sqlalchemy import func, select

    from mamori.jobs.tables import JobRow

    j = JobRow.__table__
    with store.engine.connect() as conn:
        return int(
            conn.scalar(select(func.count()).select_from(j).where(j.c.id.in_(ids), j.c.state == "done")) or 0
        )


def _warm(store: Any, dispatcher: Any) -> None:
    """One probe through the workers first: their processes started and connected."""
    job = dispatcher.submit("probe")
    while count_done(store, [job]) < 1:
        time.sleep(0.1)


def throughput(
    db: str, folder: Path, noop: int, upload_files: list[Path], concurrency: int
) -> dict[str, Any]:
    from mamori.jobs.dispatch import Dispatcher
    from mamori.jobs.settings import Queues
    from mamori.portfolio import uploads
    from mamori.store import open_store

    work = folder / f"throughput-{uuid.uuid4().hex[:8]}.db"  # a fresh name: no stale -wal beside it
    shutil.copy(db, work)
    prefix = f"mamori-bench-{uuid.uuid4().hex[:8]}"
    proc = worker(str(work), prefix, concurrency, folder / "worker.log")
    out: dict[str, Any] = {"worker_processes": concurrency}
    try:
        with open_store(work) as store:
            dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
            _warm(store, dispatcher)
            start = time.perf_counter()
            ids = [dispatcher.submit("probe") for _ in range(noop)]
            submitted = time.perf_counter() - start
            while count_done(store, ids) < len(ids):
                time.sleep(0.05)
            seconds = time.perf_counter() - start
            out["noop"] = {
                "tasks": noop,
                "seconds": round(seconds, 2),
                "tasks_per_s": round(noop / seconds, 1),
                "submit_per_s": round(noop / submitted, 1),
            }
            tokens = []
            for path in upload_files:
                data = path.read_bytes()
                tokens.append(
                    uploads.submit_upload(store, data, path.name, "uploaded", path.stem, True, "bench")
                )
            start = time.perf_counter()
            ids = [dispatcher.submit("upload", token=t) for t in tokens]
            while count_done(store, ids) < len(ids):
                time.sleep(0.1)
            seconds = time.perf_counter() - start
            states = {uploads.upload_status(store, t).state for t in tokens}
            out["uploads"] = {
                "tasks": len(ids),
                "seconds": round(seconds, 2),
                "tasks_per_s": round(len(ids) / seconds, 2),
                "states": sorted(states),
            }
            dispatcher.shutdown()
    finally:
        stop(proc)
        delete_queues(prefix)
    return out


def _findings(store: Any) -> list[tuple[Any, ...]]:
    from sqlalchemy import select

    from mamori.portfolio import tables as t

    f, m = t.FindingRow.__table__, t.MatchRow.__table__
    stmt = select(f.c.release_id, m.c.component_id, m.c.vuln_id, f.c.resolved_run.is_(None)).join(
        m, m.c.id == f.c.match_id
    )
    with store.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(stmt))


def rematch_with(
    db: str, folder: Path, concurrency: int, shard_size: int
) -> tuple[float, list[tuple[Any, ...]], int]:
    from sqlalchemy import select

    from mamori.jobs.dispatch import Dispatcher
    from mamori.jobs.settings import Queues
    from mamori.portfolio import tables as t
    from mamori.store import open_store

    work = folder / f"rematch-{concurrency}-{uuid.uuid4().hex[:8]}.db"  # a fresh name: no stale -wal
    shutil.copy(db, work)
    prefix = f"mamori-bench-{uuid.uuid4().hex[:8]}"
    proc = worker(str(work), prefix, concurrency, folder / "worker.log")
    try:
        with open_store(work) as store:
            dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
            for _ in range(concurrency):
                _warm(store, dispatcher)
            r = t.RunRow.__table__
            start = time.perf_counter()
            dispatcher.submit("rematch", size=shard_size)
            while True:
                with store.engine.connect() as conn:
                    done = conn.scalar(select(r.c.id).where(r.c.done.is_(True)))
                if done:
                    break
                time.sleep(0.1)
            seconds = time.perf_counter() - start
            with store.engine.connect() as conn:
                shards = conn.scalar(select(r.c.components).where(r.c.id == done))
            dispatcher.shutdown()
            return seconds, _findings(store), int(shards or 0)
    finally:
        stop(proc)
        delete_queues(prefix)
        for path in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
            path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sboms", type=int, default=300)
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--with-cve5", action="store_true")
    parser.add_argument("--noop", type=int, default=300)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--shard-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    from kombu import Connection

    try:
        with Connection(BROKER, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        print(json.dumps({"skipped": f"no RabbitMQ answers on {BROKER}"}))
        raise SystemExit(3) from None
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db, upload_files, built = build(folder, args.sboms, args.components, args.with_cve5, args.seed)
        from sqlalchemy import func, select

        from mamori.jobs.shards import rematch_in_shards
        from mamori.portfolio import tables as t
        from mamori.store import open_store

        reference_db = folder / "reference.db"
        shutil.copy(db, reference_db)
        with open_store(reference_db) as store:
            start = time.perf_counter()
            summary = rematch_in_shards(store, size=args.shard_size)
            inprocess = time.perf_counter() - start
            reference = _findings(store)
            with store.engine.connect() as conn:
                identities = conn.scalar(select(func.count()).select_from(t.ComponentRow.__table__))
                placements = conn.scalar(select(func.count()).select_from(t.SbomComponentRow.__table__))
        times: dict[int, list[float]] = {1: [], 2: []}
        identical = True
        for round_no in range(args.runs):
            for workers in (1, 2) if round_no % 2 == 0 else (2, 1):
                seconds, found, _ = rematch_with(db, folder, workers, args.shard_size)
                times[workers].append(round(seconds, 2))
                identical = identical and found == reference
        rates = {n: throughput(db, folder, args.noop, upload_files, n) for n in (1, 2)}
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "load_average_before": load_before,
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "broker": "RabbitMQ on 127.0.0.1:5672",
                "store": "SQLite",
                "portfolio": {
                    "sboms": args.sboms,
                    "components_per_sbom": args.components,
                    "placements": placements,
                    "distinct_components": identities,
                    "open_findings": summary.open_findings,
                },
                "build": built,
                "rematch": {
                    "shard_size": args.shard_size,
                    "shards": -(-int(identities or 0) // args.shard_size),
                    "in_process_one_run_seconds": round(inprocess, 2),
                    "one_worker_seconds": times[1],
                    "two_workers_seconds": times[2],
                    "median_one": one,
                    "median_two": two,
                    "speed_up": round(one / two, 2) if two else None,
                    "runs": args.runs,
                    "identical_findings": identical,
                },
                "throughput": rates,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
