"""Submitting work: to Celery when a broker is configured, else to a thread pool in this process.

The same task functions run either way (:mod:`mamori.jobs.work`, :mod:`mamori.jobs.shards`), and the
job's row in the store says how it stands either way (:mod:`mamori.jobs.records`).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mamori.jobs import records
from mamori.store import Store

log = logging.getLogger("mamori.jobs")

KINDS = (
    "upload",
    "sync",
    "rematch",
    "rematch-changed",
    "sweep",
    "probe",
    "notify",
    "notify-test",
    "csaf-pull",
    "bundle",
)


def run_inline(store: Store, kind: str, kwargs: dict[str, Any], job_id: str | None = None) -> Any:
    """Run one job in this process (the embedded default), recording it; its result. A failure is
    recorded (class name only) and raised."""
    from mamori.jobs import work

    job_id = job_id or uuid.uuid4().hex
    records.submitted(store, job_id, kind)
    attempt = records.started(store, job_id, kind, 0) - 1
    try:
        if kind == "upload":
            result: Any = work.process_upload(store, kwargs["token"])
            if result.get("state") == "done":
                result |= work.remember_ssvc(store)
        elif kind == "sync":
            result = work.sync_feed(store, kwargs["feed"], options=kwargs.get("options"))
            if result["steps"]:
                result["rematch"] = work.rematch_changed(store)
                result |= work.remember_ssvc(store)
                result["notify"] = work.notify(store)
        elif kind == "rematch":
            result = work.rematch(
                store, changed_only=bool(kwargs.get("changed_only")), size=kwargs.get("size")
            )
            result |= work.remember_ssvc(store)
            result["notify"] = work.notify(store)
        elif kind == "rematch-changed":
            result = work.rematch_changed(store)
            result |= work.remember_ssvc(store)
            result["notify"] = work.notify(store)
        elif kind == "notify":
            result = work.notify(store)
        elif kind == "notify-test":
            result = work.notify_test(store, int(kwargs["subscription_id"]))
        elif kind == "csaf-pull":
            result = work.csaf_pull(store, int(kwargs["subscription_id"]))
        elif kind == "bundle":
            result = work.process_bundle(store, str(kwargs["bundle_job"]))
        elif kind == "sweep":
            tokens = work.sweep_uploads(store, float(kwargs.get("older_than", 120.0)))
            bundles = work.sweep_bundle_jobs(store, float(kwargs.get("older_than", 120.0)))
            result = {"resubmitted": len(tokens), "bundles": len(bundles)}
            for token in tokens:
                work.process_upload(store, token)
            for bundle_job in bundles:
                work.process_bundle(store, bundle_job)
        elif kind == "probe":
            result = work.probe(store, job_id=job_id, attempt=attempt, **kwargs)
        else:
            raise ValueError(f"unknown job kind {kind!r}")
    except BaseException as exc:
        log.exception("job %s (%s) failed", job_id, kind)
        records.failed(store, job_id, type(exc).__name__)
        raise
    records.finished(store, job_id, result)
    return result


class Dispatcher:
    """Where this process sends its jobs: a Celery app over the broker, or its own threads."""

    def __init__(
        self, store: Store, broker: str | None = None, *, workers: int = 2, queues: Any = None
    ) -> None:
        self.store = store
        self.broker = broker
        self._app: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._queues = queues
        self._workers = workers

    @property
    def app(self) -> Any:
        if self._app is None and self.broker:
            from mamori.jobs.celeryapp import make_app

            self._app = make_app(self.broker, db=self.store.url, queues=self._queues)
        return self._app

    def submit(self, kind: str, **kwargs: Any) -> str:
        """Submit a job; its id. With a broker that does not answer the job is recorded ``failed``
        (``BrokerUnavailable``) and :class:`~mamori.jobs.celeryapp.BrokerUnavailable` raised."""
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        if self.app is not None:
            from mamori.jobs.celeryapp import submit_celery

            return submit_celery(self.app, kind, kwargs, store=self.store)
        job_id = uuid.uuid4().hex
        records.submitted(self.store, job_id, kind)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=max(1, self._workers), thread_name_prefix="mamori-job"
            )
        self._pool.submit(self._inline, kind, kwargs, job_id)
        return job_id

    def _inline(self, kind: str, kwargs: dict[str, Any], job_id: str) -> None:
        with contextlib.suppress(BaseException):  # recorded by run_inline; the pool goes on
            run_inline(self.store, kind, kwargs, job_id)

    def status(self, job_id: str) -> records.JobRecord | None:
        return records.get(self.store, job_id)

    def shutdown(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)
        if self._app is not None:
            self._app.close()
