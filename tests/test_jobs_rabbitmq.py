"""Background work on Celery against the real RabbitMQ (skipped when it does not answer): real
``mamori worker`` processes, each test with queues of its own.

- an uploaded SBOM is processed by a worker: the upload ends ``done`` with the findings ``mamori scan``
  gives;
- late acknowledgement: SIGKILL of a worker's pool process (reject_on_worker_lost) or of the whole
  worker mid-shard leads to redelivery and the same final state as an uninterrupted run, without
  duplicate findings;
- retries with exponential backoff, then success; a task out of retries, a poison message and an
  unknown task go to the dead-letter queue, which ``mamori jobs dead list`` lists and ``replay`` sends
  again;
- a broker that does not answer: submitting fails with a clear status, the API keeps serving, and the
  upload left ``queued`` is processed once a worker and the broker are back (the scheduler's sweep).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from dtrack_support import keys_of
from jobs_support import BROKER, MAMORI, Workers, needs_broker, prefix, wait_for, workers
from mamori.jobs import records, settings
from mamori.jobs.dispatch import Dispatcher
from mamori.jobs.settings import Queues
from mamori.portfolio import add_product, store_sbom, uploads
from mamori.portfolio import tables as t
from mamori.portfolio.rematch import rematch
from mamori.store import Store, open_store
from portfolio_support import knowledge_template, sbom_file
from test_jobs_shards import RELEASES, findings

__all__ = ["knowledge_template", "prefix", "workers"]  # fixtures used below

pytestmark = needs_broker
WorkersOf = Callable[[str], Workers]


def _store(knowledge_template: Path, folder: Path, name: str = "kb.db") -> tuple[Store, str]:
    path = folder / name
    shutil.copy(knowledge_template, path)
    return open_store(path), str(path)


def _portfolio(store: Store, folder: Path) -> None:
    add_product(store, "shop")
    add_product(store, "gateway")
    for (product, version), purls in RELEASES.items():
        path = sbom_file(folder / f"{product}-{version}.cdx.json", purls, product)
        store_sbom(store, product, version, path, who="tester")


def _job(store: Store, job_id: str) -> records.JobRecord | None:
    return records.get(store, job_id)


def _run_done(store: Store) -> int | None:
    r = t.RunRow.__table__
    with store.engine.connect() as conn:
        return conn.scalar(select(r.c.id).where(r.c.done.is_(True), r.c.mode == "full"))


def test_worker_processes_an_upload(
    knowledge_template: Path, tmp_path: Path, prefix: str, workers: WorkersOf
) -> None:
    store, db = _store(knowledge_template, tmp_path)
    with store:
        add_product(store, "shop")
        data = sbom_file(tmp_path / "shop.cdx.json", RELEASES[("shop", "1.0")], "shop").read_bytes()
        token = uploads.submit_upload(store, data, "shop.cdx.json", "shop", "1.0", True, "tester")
        dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
        job_id = dispatcher.submit("upload", token=token)
        assert _job(store, job_id).state == records.QUEUED
        w = workers(db)
        w.start()
        done = wait_for(
            lambda: (s := uploads.upload_status(store, token)) and s.state == uploads.DONE and s,
            "the upload processed",
            w.logs,
        )
        assert done.open_findings and done.open_findings > 0
        job = wait_for(
            lambda: (j := _job(store, job_id)) and j.state == records.DONE and j, "job done", w.logs
        )
        assert job.kind == "upload" and job.attempts == 1 and job.result["state"] == "done"
        dispatcher.shutdown()


def _killed_mid_shard(
    knowledge_template: Path, tmp_path: Path, prefix: str, workers: WorkersOf, *, whole_worker: bool
) -> None:
    reference, _ = _store(knowledge_template, tmp_path, "reference.db")
    with reference:
        _portfolio(reference, tmp_path)
        rematch(reference)
        expected = findings(reference)
    store, db = _store(knowledge_template, tmp_path)
    with store:
        _portfolio(store, tmp_path)
        marker = tmp_path / "paused"
        w = workers(db)
        fault = {"MAMORI_JOBS_FAULT": f"pause-before-commit:{marker}"}
        first = w.start(pool="solo" if whole_worker else "prefork", env=fault)
        dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
        dispatcher.submit("rematch", size=2)
        wait_for(lambda: marker.exists() and marker.read_text(), "a shard paused before its commit", w.logs)
        pid = int(marker.read_text())
        if whole_worker:
            assert pid == first.pid
            os.killpg(first.pid, signal.SIGKILL)  # the worker and its connection: RabbitMQ redelivers
            first.wait(timeout=30)
            w.start()  # another worker takes the redelivered shard
        else:
            assert pid != first.pid  # a pool process: the worker sees it lost and rejects with requeue
            os.kill(pid, signal.SIGKILL)
        run_id = wait_for(lambda: _run_done(store), "the run finished", w.logs)
        got = findings(store)  # asserts no duplicate finding rows
        assert got == expected
        shard_jobs = [
            j for j in (records.get(store, i) for i in _ids(store, "rematch-shard")) if j is not None
        ]
        assert all(j.state == records.DONE for j in shard_jobs)
        assert max(j.attempts for j in shard_jobs) == 2  # the killed shard ran again, once
        assert len(records.done_keys(store, f"rematch:{run_id}:")) == len(shard_jobs)
        dispatcher.shutdown()


def _ids(store: Store, kind: str) -> list[str]:
    from mamori.jobs.tables import JobRow

    j = JobRow.__table__
    with store.engine.connect() as conn:
        return list(conn.scalars(select(j.c.id).where(j.c.kind == kind)))


def test_sigkill_of_a_pool_process_mid_shard(
    knowledge_template: Path, tmp_path: Path, prefix: str, workers: WorkersOf
) -> None:
    _killed_mid_shard(knowledge_template, tmp_path, prefix, workers, whole_worker=False)


def test_sigkill_of_the_worker_mid_shard(
    knowledge_template: Path, tmp_path: Path, prefix: str, workers: WorkersOf
) -> None:
    _killed_mid_shard(knowledge_template, tmp_path, prefix, workers, whole_worker=True)


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [settings.backoff(n, 2.0, 20.0) for n in range(5)] == [2.0, 4.0, 8.0, 16.0, 20.0]


def _mamori(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAMORI), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MAMORI_LANG": "en", **(env or {})},
    )


def test_retries_then_dead_letters_and_replay(
    knowledge_template: Path, tmp_path: Path, prefix: str, workers: WorkersOf
) -> None:
    store, db = _store(knowledge_template, tmp_path)
    with store:
        w = workers(db)
        w.start(env={"MAMORI_JOBS_RETRY_BASE": "0.2", "MAMORI_JOBS_MAX_RETRIES": "3"})
        dispatcher = Dispatcher(store, BROKER, queues=Queues(prefix))
        # fails twice (transient), then succeeds: three starts, one dedup key
        retried = dispatcher.submit("probe", fail_times=2, key="probe:retried")
        job = wait_for(
            lambda: (j := _job(store, retried)) and j.state == records.DONE and j, "retried job done", w.logs
        )
        assert job.attempts == 3 and job.result == {"attempt": 2}
        assert records.done_keys(store, "probe:") == ["probe:retried"]
        # out of retries: dead
        hopeless = dispatcher.submit("probe", fail_times=99)
        wait_for(
            lambda: (j := _job(store, hopeless)) and j.state == records.DEAD, "hopeless job dead", w.logs
        )
        assert _job(store, hopeless).attempts == 4  # the first start and 3 retries
        # poison: dead at once, replayable once the cause is gone
        flag = tmp_path / "fixed"
        poison = dispatcher.submit("probe", fail_while_missing=str(flag), key="probe:poison")
        wait_for(lambda: (j := _job(store, poison)) and j.state == records.DEAD, "poison job dead", w.logs)
        assert _job(store, poison).attempts == 1
        # a message no mamori task takes
        dispatcher.app.send_task("mamori.no-such-task", kwargs={}, task_id="unknown-task-1")

        def dead() -> dict[str, dict[str, object]]:
            out = _mamori("jobs", "dead", "list", "--broker", BROKER, "--format", "json")
            assert out.returncode == 0, out.stderr
            return {d["job_id"]: d for d in json.loads(out.stdout)}

        letters = wait_for(lambda: len(found := dead()) == 3 and found, "three dead letters", w.logs)
        assert set(letters) == {hopeless, poison, "unknown-task-1"}
        assert {d["queue"] for d in letters.values()} == {prefix}
        assert {d["reason"] for d in letters.values()} == {"rejected"}
        assert len(dead()) == 3  # listing leaves them in the queue
        flag.write_text("fixed")
        out = _mamori("jobs", "dead", "replay", "--broker", BROKER, "--db", db, "--job", poison)
        assert out.returncode == 0 and "1 " in out.stdout, out.stderr
        wait_for(lambda: (j := _job(store, poison)) and j.state == records.DONE, "replayed job done", w.logs)
        assert records.done_keys(store, "probe:") == ["probe:poison", "probe:retried"]
        assert set(dead()) == {hopeless, "unknown-task-1"}
        dispatcher.shutdown()


def test_broker_outage_keeps_the_api_serving(
    knowledge_template: Path, tmp_path: Path, prefix: str, workers: WorkersOf
) -> None:
    from fastapi.testclient import TestClient

    from mamori.jobs.celeryapp import BrokerUnavailable
    from mamori.server import background
    from mamori.server.app import create_app
    from mamori.server.settings import ServerSettings

    store, db = _store(knowledge_template, tmp_path)
    with store:
        add_product(store, "shop")
        down = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens there
        dispatcher = Dispatcher(store, down, queues=Queues(prefix))
        try:
            dispatcher.submit("probe")
            raise AssertionError("submitted to a broker that is down")
        except BrokerUnavailable as exc:
            job = _job(store, str(exc.job_id))
        assert job is not None and job.state == records.FAILED and job.error == "BrokerUnavailable"

        keys = keys_of(store)
        app = create_app(ServerSettings(db=db, broker_url=down), store)
        with TestClient(app) as client:
            assert background.broker_configured()
            data = sbom_file(tmp_path / "shop.cdx.json", RELEASES[("shop", "1.1")], "shop").read_bytes()
            body = {
                "projectName": "shop",
                "projectVersion": "1.1",
                "autoCreate": True,
                "bom": base64.b64encode(data).decode(),
            }
            key = {"X-Api-Key": keys["odt_ci"]}
            accepted = client.put("/api/v1/bom", json=body, headers=key)
            assert accepted.status_code == 200, accepted.text
            token = accepted.json()["token"]
            polled = client.get(f"/api/v1/bom/token/{token}", headers=key)
            assert polled.status_code == 200 and polled.json()["processing"] is True
            shown = client.get(f"/api/mamori/v1/uploads/{token}", headers=key)
            assert shown.status_code == 200 and shown.json()["state"] == "queued"  # waits, not lost
            job_id = background.submit_task("probe")
            assert background.status(job_id).state == "failed"
            assert background.status(job_id).error == "BrokerUnavailable"
        # the broker back, a worker, the scheduler's sweep: the upload is processed
        w = workers(db)
        w.start()
        live = Dispatcher(store, BROKER, queues=Queues(prefix))
        live.submit("sweep", older_than=0)
        wait_for(
            lambda: uploads.upload_status(store, token).state == uploads.DONE,
            "the waiting upload processed",
            w.logs,
        )
        live.shutdown()
