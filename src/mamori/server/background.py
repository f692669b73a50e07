"""Work the server runs after answering (an SBOM upload's matching, a VEX export …), behind one small seam:
:func:`submit` gives a job id, :func:`status` tells how the job stands.

The embedded default runs jobs in this process on a small thread pool (SQLite allows one writer at a time,
so a few threads are enough). A later change can move the work to separate workers (Celery on RabbitMQ or
Redis) by replacing this module's :class:`Jobs` while :func:`submit` and :func:`status` keep their shape.
A job's failure is logged here in full and kept as its class name only: its message may hold input text.
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


def jobs() -> Jobs:
    """The process's jobs (made on first use)."""
    global _jobs
    with _jobs_lock:
        if _jobs is None:
            _jobs = Jobs()
        return _jobs


def configure(workers: int) -> Jobs:
    """Start the process's jobs with ``workers`` threads (the application does, on start-up)."""
    global _jobs
    with _jobs_lock:
        if _jobs is not None:
            _jobs.shutdown(wait=False)
        _jobs = Jobs(workers)
        return _jobs


def submit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run ``fn(*args, **kwargs)`` after the response; returns the job's id."""
    return jobs().submit(fn, *args, **kwargs)


def status(job_id: str) -> JobStatus | None:
    """How the job stands, or None for a job id this server does not know."""
    return jobs().status(job_id)
