"""The Celery application: mamori's tasks on RabbitMQ, acknowledged late, with retries and a dead-letter
queue.

- **Late acknowledgement**: a message is acknowledged when its task ends (``task_acks_late``), and put
  back when the worker process dies under it (``task_reject_on_worker_lost``); each worker takes one
  message at a time (``worker_prefetch_multiplier = 1``). RabbitMQ delivers the message again, marked
  *redelivered*, and the task, idempotent for its unit of work, ends as one uninterrupted run would.
- **Retries**: a transient failure (:class:`~mamori.jobs.work.TransientError`, the store not answering)
  is retried after ``RETRY_BASE`` seconds, doubled each time (at most ``RETRY_MAX``), ``MAX_RETRIES``
  times.
- **Dead letters**: every queue has RabbitMQ's dead-letter exchange ``<prefix>.dlx``; a rejected message
  lands in ``<prefix>.dead``: a poison message (:class:`~mamori.jobs.work.PoisonError`, an unknown task,
  a body that is not mamori's), a task out of retries, one delivered ``MAX_DELIVERIES`` times without
  ending (it kills its worker). ``mamori jobs dead list|replay`` reads and re-sends them.
- **No result backend**: the job's state is in the store (table ``job``), so it survives the broker and
  the workers, and a re-match run's shards meet in the store (each shard's dedup key), not in Redis.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from celery import Celery
from celery.exceptions import Reject
from kombu import Exchange, Queue

from mamori.jobs import records, settings
from mamori.jobs.settings import MAX_DELIVERIES, Queues, backoff
from mamori.jobs.work import PoisonError, TransientError

log = logging.getLogger("mamori.jobs")

TASKS = {
    "upload": "mamori.upload",
    "sync": "mamori.sync",
    "rematch": "mamori.rematch",
    "rematch-changed": "mamori.rematch_changed",
    "rematch-shard": "mamori.rematch_shard",
    "rematch-finish": "mamori.rematch_finish",
    "sweep": "mamori.sweep",
    "probe": "mamori.probe",
    "notify": "mamori.notify",
    "notify-test": "mamori.notify_test",
    "csaf-pull": "mamori.csaf_pull",
    "bundle": "mamori.bundle",
}
# fault injection of the tests: pause-before-commit:<marker> or pause-after-notify:<marker>
FAULT_ENV = "MAMORI_JOBS_FAULT"

_stores: dict[tuple[int, str | None], Any] = {}
_stores_lock = threading.Lock()


def topology(queues: Queues) -> tuple[list[Queue], Queue]:
    """The work queues (each dead-lettering to the dead-letter exchange) and the dead-letter queue."""
    exchange = Exchange(queues.exchange, type="direct", durable=True)
    dead_exchange = Exchange(queues.dead_exchange, type="direct", durable=True)
    arguments = {"x-dead-letter-exchange": queues.dead_exchange, "x-dead-letter-routing-key": queues.dead}
    work = [
        Queue(name, exchange, routing_key=name, durable=True, queue_arguments=arguments)
        for name in queues.names
    ]
    return work, Queue(queues.dead, dead_exchange, routing_key=queues.dead, durable=True)


def make_app(
    broker: str,
    *,
    db: str | None = None,
    queues: Queues | None = None,
    retry_base: float | None = None,
    max_retries: int | None = None,
) -> Celery:
    """A Celery application over ``broker`` whose tasks work on the store ``db``."""
    queues = queues or Queues.from_env()
    work, dead = topology(queues)
    app = Celery("mamori", broker=broker, set_as_current=False)
    app.conf.update(
        task_queues=[*work, dead],
        task_default_queue=queues.default,
        task_default_exchange=queues.exchange,
        task_default_routing_key=queues.default,
        task_routes={TASKS["rematch-shard"]: {"queue": queues.shards, "routing_key": queues.shards}},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=False,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_store_errors_even_if_ignored=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3.0,
        broker_heartbeat=30,
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 1,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
    )
    app.conf.mamori_db = db
    app.conf.mamori_queues = queues.prefix
    app.conf.mamori_retry_base = settings.retry_base() if retry_base is None else retry_base
    app.conf.mamori_max_retries = settings.max_retries() if max_retries is None else max_retries
    _register(app)
    return app


def declare(app: Celery) -> None:
    """Declare the exchanges and queues (the dead-letter queue too: a consumer never declares it)."""
    work, dead = topology(Queues(app.conf.mamori_queues))
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=app.conf.broker_connection_timeout)
        channel = conn.default_channel
        for queue in [*work, dead]:
            queue.bind(channel).declare()


def store_of(app: Celery) -> Any:
    """The store of this worker process (opened on first use, once per process: prefork children
    open their own)."""
    from mamori.store import open_store

    key = (os.getpid(), app.conf.mamori_db)
    with _stores_lock:
        found = _stores.get(key)
        if found is None:
            found = open_store(app.conf.mamori_db)
            _stores[key] = found
        return found


def _fault(marker: str | None = None, point: str = "pause-before-commit") -> None:
    """Fault injection of the reliability tests: the first task to get to ``point`` writes its pid to the
    marker file and waits to be killed (the tests set ``MAMORI_JOBS_FAULT``; nothing else does)."""
    spec = os.environ.get(FAULT_ENV, "")
    if not spec.startswith(point + ":"):
        return
    path = spec.split(":", 1)[1]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # fired once already: go on
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    import time

    time.sleep(3600)


def _register(app: Celery) -> None:
    queues = Queues(app.conf.mamori_queues)

    def task(kind: str, fn: Any) -> Any:
        @app.task(name=TASKS[kind], bind=True, acks_late=True, reject_on_worker_lost=True)
        def run(self: Any, **kwargs: Any) -> Any:
            store = store_of(app)
            job_id = str(self.request.id)
            redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
            attempt = int(self.request.retries or 0)
            deliveries = records.started(store, job_id, kind, attempt)
            if deliveries > MAX_DELIVERIES + app.conf.mamori_max_retries:
                records.failed(store, job_id, "TooManyDeliveries", records.DEAD)
                raise Reject("delivered too often without ending", requeue=False)
            try:
                result = fn(store, job_id=job_id, attempt=attempt, redelivered=redelivered, **kwargs)
            except PoisonError as exc:
                log.error("job %s (%s) cannot succeed: %s", job_id, kind, exc)
                records.failed(store, job_id, type(exc).__name__, records.DEAD)
                raise Reject(str(exc), requeue=False) from None
            except Exception as exc:
                transient = isinstance(exc, TransientError) or _store_unavailable(exc)
                if transient and attempt < app.conf.mamori_max_retries:
                    records.retrying(store, job_id, type(exc).__name__)
                    raise self.retry(
                        exc=exc, countdown=backoff(attempt, app.conf.mamori_retry_base), max_retries=None
                    ) from None
                log.exception("job %s (%s) failed", job_id, kind)
                records.failed(store, job_id, type(exc).__name__, records.DEAD)
                raise Reject(type(exc).__name__, requeue=False) from None
            records.finished(store, job_id, result)
            return None

        return run

    from mamori.jobs import shards, work

    def upload(store: Any, *, job_id: str, attempt: int, redelivered: bool, token: str) -> Any:
        result = work.process_upload(store, token, redelivered=redelivered)
        if result["state"] == "done":  # new findings, perhaps: the notifications of what changed
            result |= work.remember_ssvc(store)
            submit_celery(app, "notify", {})
        return result

    def sync(
        store: Any, *, job_id: str, attempt: int, redelivered: bool, feed: str, options: Any = None
    ) -> Any:
        result = work.sync_feed(store, feed, options=options)
        if result["steps"]:  # something new: re-match what it changed
            submit_celery(app, "rematch", {"changed_only": True})
        return result

    def rematch(
        store: Any,
        *,
        job_id: str,
        attempt: int,
        redelivered: bool,
        changed_only: bool = False,
        size: int = shards.SHARD_SIZE,
    ) -> Any:
        planned = shards.plan(store, changed_only=changed_only, size=size)
        head = {k: v for k, v in planned.as_dict().items() if k != "shards"}
        head["total"] = len(planned.shards)
        head["started"] = records.now()
        for index, ids in enumerate(planned.shards):
            submit_celery(app, "rematch-shard", {"plan": head, "index": index, "ids": ids})
        if not planned.shards:
            submit_celery(app, "rematch-finish", {"plan": head})
        return {"run_id": planned.run_id, "mode": planned.mode, "shards": len(planned.shards)}

    def rematch_changed(store: Any, *, job_id: str, attempt: int, redelivered: bool) -> Any:
        return rematch(store, job_id=job_id, attempt=attempt, redelivered=redelivered, changed_only=True)

    def shard(
        store: Any, *, job_id: str, attempt: int, redelivered: bool, plan: Any, index: int, ids: Any
    ) -> Any:
        result = shards.run_shard(
            store,
            int(plan["run_id"]),
            int(index),
            list(ids),
            job_id=job_id,
            matcher=_run_matcher(store, int(plan["run_id"])),
            before_commit=_fault,
        )
        if len(records.done_keys(store, f"rematch:{plan['run_id']}:")) >= int(plan["total"]):
            submit_celery(app, "rematch-finish", {"plan": plan})  # the last shard; finish runs once
        return result

    def finish(store: Any, *, job_id: str, attempt: int, redelivered: bool, plan: Any) -> Any:
        summary = finish_run(store, plan, job_id)
        # what the re-match changed (KEV, EPSS, SSVC, new findings), sent first: the notifications do not
        # wait for the dashboard's stored outcomes (another worker process computes the events meanwhile)
        submit_celery(app, "notify", {})
        summary |= work.remember_ssvc(store)
        return summary

    def notify(store: Any, *, job_id: str, attempt: int, redelivered: bool) -> Any:
        result = work.notify(store)
        _fault(point="pause-after-notify")
        return result

    def notify_test(store: Any, *, job_id: str, attempt: int, redelivered: bool, subscription_id: int) -> Any:
        return work.notify_test(store, int(subscription_id))

    def csaf_pull(store: Any, *, job_id: str, attempt: int, redelivered: bool, subscription_id: int) -> Any:
        return work.csaf_pull(store, int(subscription_id))

    def bundle(store: Any, *, job_id: str, attempt: int, redelivered: bool, bundle_job: str) -> Any:
        return work.process_bundle(store, bundle_job, redelivered=redelivered)

    def sweep(store: Any, *, job_id: str, attempt: int, redelivered: bool, older_than: float = 120.0) -> Any:
        tokens = work.sweep_uploads(store, older_than)
        for token in tokens:
            submit_celery(app, "upload", {"token": token})
        bundles = work.sweep_bundle_jobs(store, older_than)
        for bundle_job in bundles:
            submit_celery(app, "bundle", {"bundle_job": bundle_job})
        return {"resubmitted": len(tokens), "bundles": len(bundles)}

    def probe(store: Any, *, job_id: str, attempt: int, redelivered: bool, **kwargs: Any) -> Any:
        return work.probe(store, job_id=job_id, attempt=attempt, **kwargs)

    for kind, fn in (
        ("upload", upload),
        ("sync", sync),
        ("rematch", rematch),
        ("rematch-changed", rematch_changed),
        ("rematch-shard", shard),
        ("rematch-finish", finish),
        ("sweep", sweep),
        ("probe", probe),
        ("notify", notify),
        ("notify-test", notify_test),
        ("csaf-pull", csaf_pull),
        ("bundle", bundle),
    ):
        task(kind, fn)
    app.conf.mamori_queue_names = queues.names


_local = threading.local()  # per thread (the threads pool): the matcher of the run it takes shards of


def _run_matcher(store: Any, run_id: int) -> Any:
    """One matcher per run and worker thread: the shards of a run share the advisories it parsed (a matcher
    per shard parsed them again each time); a new run gets a new one, so it sees what a sync imported."""
    from mamori.match import Matcher

    kept = getattr(_local, "matcher", None)
    if kept is None or kept[0] != run_id:
        kept = _local.matcher = (run_id, Matcher(store))
    return kept[1]


def finish_run(store: Any, plan: dict[str, Any], job_id: str | None = None) -> dict[str, Any]:
    """Close a sharded run once every shard merged (once: its dedup key ``rematch-finish:<run>``)."""
    from datetime import datetime

    from mamori.jobs import shards

    run_id = int(plan["run_id"])
    key = f"rematch-finish:{run_id}"
    with store.engine.connect() as conn:
        if records.is_done(conn, key):
            return records.done_result(store, key) or {"run_id": run_id}
    results = [
        records.done_result(store, shards.shard_key(run_id, i)) or {} for i in range(int(plan["total"]))
    ]
    started = datetime.fromisoformat(str(plan["started"]).replace("Z", "+00:00"))
    seconds = (datetime.fromisoformat(records.now().replace("Z", "+00:00")) - started).total_seconds()
    planned = shards.Plan.of(
        {
            k: plan[k]
            for k in ("run_id", "mode", "identities", "vulnerabilities_changed", "link_mark", "sbom_mark")
        }
        | {"shards": []}
    )
    summary = shards.finish(store, planned, results, seconds)
    from sqlalchemy.exc import IntegrityError

    try:
        with store.engine.connect().execution_options(write=True) as conn:
            records.mark_done(conn, key, job_id, {"run_id": run_id})
            conn.commit()
    except IntegrityError:
        pass  # a second finish message closed it too: the same totals
    return summary.as_dict()


def _store_unavailable(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError) and (exc.connection_invalidated or "locked" in str(exc.orig))


def submit_celery(
    app: Celery, kind: str, kwargs: dict[str, Any], job_id: str | None = None, store: Any = None
) -> str:
    """Send one task (its job row is written first, ``queued``); its job id. Raises
    :class:`BrokerUnavailable` when the broker does not take the message."""
    import uuid

    job_id = job_id or uuid.uuid4().hex
    store = store if store is not None else store_of(app)
    records.submitted(store, job_id, kind)
    try:
        app.send_task(TASKS[kind], kwargs=kwargs, task_id=job_id)
    except Exception as exc:  # kombu's OperationalError, socket errors … : the broker is away
        records.failed(store, job_id, "BrokerUnavailable")
        raise BrokerUnavailable(type(exc).__name__, job_id) from None
    return job_id


class BrokerUnavailable(Exception):
    """The broker did not take a message (it is down or unreachable); ``job_id``: the job recorded failed."""

    def __init__(self, reason: str, job_id: str | None = None) -> None:
        super().__init__(reason)
        self.job_id = job_id
