"""Work the server runs after answering (an SBOM upload's matching, a VEX export …), behind one small seam:
:func:`submit` gives a job id, :func:`status` tells how the job stands.

The embedded default runs jobs in this process on a small thread pool (SQLite allows one writer at a time,
so a few threads are enough). With a message broker configured (``mamori serve --broker`` or
``MAMORI_BROKER_URL``), the named tasks of :mod:`mamori.jobs` (:func:`submit_task`, and every SBOM upload:
:func:`start_upload`) go to Celery workers instead; their state is the job's row in the store, which
:func:`status` reads for an id this process does not hold. When the broker does not answer, the API goes
on serving: the job is recorded ``failed`` (``BrokerUnavailable``), and an upload stays ``queued`` until
the scheduler's sweep sends it again. A job's failure is logged here in full and kept as its class name
only: its message may hold input text.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("mamori.server.background")

KEEP = 10_000  # finished jobs remembered (oldest forgotten first)


@dataclass(slots=True)
class JobStatus:
    id: str
    state: str  # queued | running | done | failed
    submitted_at: str
    finished_at: str | None = None
    error: str | None = None
    result: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "submitted_at": self.submitted_at,
            "finished_at": self.finished_at,
            "error": self.error,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Jobs:
    """In-process jobs on a thread pool."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="mamori-job")
        self._jobs: OrderedDict[str, JobStatus] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
        job = JobStatus(uuid.uuid4().hex, "queued", _now())
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].state in ("queued", "running"):
                    break
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job, fn, args, kwargs)
        return job.id

    def _run(
        self, job: JobStatus, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        job.state = "running"
        try:
            job.result = fn(*args, **kwargs)
        except BaseException as exc:  # the job's end; the server goes on
            log.exception("background job %s failed", job.id)
            job.error = type(exc).__name__
            job.state = "failed"
        else:
            job.state = "done"
        job.finished_at = _now()

    def status(self, job_id: str) -> JobStatus | None:
        with self._lock:
            return self._jobs.get(job_id)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


_jobs: Jobs | None = None
_jobs_lock = threading.Lock()
_dispatcher: Any = None  # mamori.jobs.dispatch.Dispatcher over the broker, when one is configured


def jobs() -> Jobs:
    """The process's jobs (made on first use)."""
    global _jobs
    with _jobs_lock:
        if _jobs is None:
            _jobs = Jobs()
        return _jobs


def configure(workers: int, store: Any = None, broker: str | None = None) -> Jobs:
    """Start the process's jobs with ``workers`` threads (the application does, on start-up); with a
    ``broker`` (and the ``store`` the jobs are recorded in) named tasks go to Celery workers."""
    global _jobs, _dispatcher
    with _jobs_lock:
        if _jobs is not None:
            _jobs.shutdown(wait=False)
        if _dispatcher is not None:
            _dispatcher.shutdown(wait=False)
            _dispatcher = None
        _jobs = Jobs(workers)
        if store is not None:
            from mamori.jobs.dispatch import Dispatcher

            _dispatcher = Dispatcher(store, broker, workers=workers)
        return _jobs


def broker_configured() -> bool:
    return _dispatcher is not None and _dispatcher.broker is not None


def shutdown(wait: bool = True) -> None:
    """End the process's jobs (the application does, when it stops)."""
    global _dispatcher
    jobs().shutdown(wait=wait)
    with _jobs_lock:
        if _dispatcher is not None:
            _dispatcher.shutdown(wait=wait)
            _dispatcher = None


def submit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run ``fn(*args, **kwargs)`` after the response; returns the job's id."""
    return jobs().submit(fn, *args, **kwargs)


def submit_task(kind: str, **kwargs: Any) -> str:
    """Submit a named task of :mod:`mamori.jobs` (``sync``, ``rematch`` …): to the broker when one is
    configured, else to this process's threads; its job id. A broker that does not answer leaves the job
    recorded ``failed`` (``BrokerUnavailable``): its id is returned all the same."""
    if _dispatcher is None:
        raise RuntimeError("background jobs are not configured with a store")
    from mamori.jobs.celeryapp import BrokerUnavailable

    try:
        return str(_dispatcher.submit(kind, **kwargs))
    except BrokerUnavailable as exc:
        log.warning("the message broker did not take a %s job: %s", kind, exc)
        return str(exc.job_id) if getattr(exc, "job_id", None) else ""


def _to_worker(task: str, what: str, **kwargs: Any) -> bool:
    """Send ``task`` to a worker when a broker is configured (True); False: no broker, the caller does the
    work in this process. When the broker does not answer, the job stays ``queued`` (``what`` names it in
    the warning) and the scheduler's sweep sends it again once the broker is back."""
    if not broker_configured():
        return False
    from mamori.jobs.celeryapp import BrokerUnavailable

    try:
        _dispatcher.submit(task, **kwargs)
    except BrokerUnavailable as exc:
        log.warning("%s waits for the message broker: %s", what, exc)
    return True


def start_upload(store: Any, token: str) -> None:
    """Process an accepted SBOM upload: on a worker when a broker is configured, else in this process
    (:func:`mamori.portfolio.uploads.start_processing`). When the broker does not answer, the upload stays
    ``queued`` (its status says so) and the scheduler's sweep sends it again once the broker is back."""
    if _to_worker("upload", f"upload {token}", token=token):
        return
    from mamori.portfolio import uploads

    uploads.start_processing(store, token)


def start_bundle(store: Any, job_id: str) -> None:
    """Verify and import a received bundle (:func:`mamori.bundle.jobs.process_bundle_job`): on a worker when a
    broker is configured, else on this process's threads. When the broker does not answer, the bundle job
    stays ``queued`` and the scheduler's sweep sends it again once the broker is back."""
    if _to_worker("bundle", f"bundle job {job_id}", bundle_job=job_id):
        return
    from mamori.bundle.jobs import process_bundle_job

    jobs().submit(process_bundle_job, store, job_id)


def resume_bundles(store: Any) -> list[str]:
    """Bundle jobs a stopped server left queued or running, taken up again on this process's threads (a
    running one as a redelivery: its import may have been committed)."""
    from mamori.bundle.jobs import RUNNING, pending_jobs, process_bundle_job

    found = pending_jobs(store, (RUNNING,))
    for job_id in found:
        jobs().submit(process_bundle_job, store, job_id, redelivered=True)
    queued = pending_jobs(store)
    for job_id in queued:
        start_bundle(store, job_id)
    return found + queued


def status(job_id: str) -> JobStatus | None:
    """How the job stands, or None for a job id this server does not know (in this process, or in the
    store's job table)."""
    found = jobs().status(job_id)
    if found is not None or _dispatcher is None:
        return found
    record = _dispatcher.status(job_id)
    if record is None:
        return None
    state = {"retrying": "queued", "dead": "failed"}.get(record.state, record.state)
    return JobStatus(record.id, state, record.submitted_at, record.finished_at, record.error, record.result)
