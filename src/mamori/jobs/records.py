"""The job table and the dedup keys: how a job stands, and whether a unit of work is already done.

A job's row is written when it is submitted and updated as it runs, whichever process runs it (the
server's thread pool or a Celery worker): the store is the result backend, so a job's state survives a
restarted broker or worker and every server process reads the same answer. A failure keeps the error's
class name only: its message may hold input text (the worker's log has it in full).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from mamori.jobs.tables import JobDedupRow, JobRow
from mamori.store import Store
from mamori.store.jobrecord import now_ms

QUEUED, RUNNING, RETRYING, DONE, FAILED, DEAD = "queued", "running", "retrying", "done", "failed", "dead"
RESULT_LIMIT = 16_000  # characters of a job's JSON result kept (a summary, never findings)


now = now_ms  # the times of every job record (mamori.store.jobrecord)


@dataclass(slots=True)
class JobRecord:
    id: str
    kind: str
    state: str
    submitted_at: str
    attempts: int = 0
    dedup_key: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    result: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "attempts": self.attempts,
            "submitted_at": self.submitted_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
        }


def _dumps(value: Any) -> str | None:
    if value is None:
        return None
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= RESULT_LIMIT else None


def submitted(store: Store, job_id: str, kind: str, dedup_key: str | None = None) -> None:
    """Write a new job's row (``queued``); nothing when the id is known already."""
    j = JobRow.__table__
    try:
        with store.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(
                j.insert().values(
                    id=job_id, kind=kind, state=QUEUED, dedup_key=dedup_key, attempts=0, submitted_at=now()
                )
            )
    except IntegrityError:
        pass


def _update(store: Store, job_id: str, **values: Any) -> None:
    j = JobRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        found = conn.execute(j.update().where(j.c.id == job_id).values(**values)).rowcount
        if not found:  # a job submitted by another tool (celery call): recorded as it starts
            conn.execute(
                j.insert().values(
                    id=job_id,
                    kind=str(values.pop("kind", "task")),
                    attempts=int(values.pop("attempts", 0)),
                    submitted_at=now(),
                    **{k: v for k, v in values.items() if k != "kind"},
                )
            )


def started(store: Store, job_id: str, kind: str, attempt: int) -> int:
    """Mark the job running; how many times it has been started (deliveries and retries)."""
    j = JobRow.__table__
    with store.engine.connect().execution_options(write=True) as conn, conn.begin():
        found = conn.execute(
            j.update()
            .where(j.c.id == job_id)
            .values(state=RUNNING, started_at=now(), attempts=j.c.attempts + 1)
        ).rowcount
        if not found:  # sent by another tool (a plain Celery call): recorded as it starts
            conn.execute(
                j.insert().values(
                    id=job_id, kind=kind, state=RUNNING, attempts=1, submitted_at=now(), started_at=now()
                )
            )
        return int(conn.scalar(select(j.c.attempts).where(j.c.id == job_id)) or 1)


def replayed(store: Store, job_id: str) -> None:
    """A dead job sent again: queued, its count of starts from zero."""
    _update(store, job_id, state=QUEUED, attempts=0, error=None, finished_at=None)


def finished(store: Store, job_id: str, result: Any) -> None:
    _update(store, job_id, state=DONE, finished_at=now(), result=_dumps(result), error=None)


def failed(store: Store, job_id: str, error: str, state: str = FAILED) -> None:
    _update(store, job_id, state=state, finished_at=now(), error=error[:200])


def retrying(store: Store, job_id: str, error: str) -> None:
    _update(store, job_id, state=RETRYING, error=error[:200])


def get(store: Store, job_id: str) -> JobRecord | None:
    """The job's record, or None for an id the store does not know."""
    j = JobRow.__table__
    with store.engine.connect() as conn:
        row = conn.execute(select(j).where(j.c.id == job_id)).first()
    if row is None:
        return None
    return JobRecord(
        id=row.id,
        kind=row.kind,
        state=row.state,
        submitted_at=row.submitted_at,
        attempts=row.attempts,
        dedup_key=row.dedup_key,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        result=orjson.loads(row.result) if row.result else None,
    )


def is_done(conn: Connection, key: str) -> bool:
    d = JobDedupRow.__table__
    return conn.execute(select(d.c.key).where(d.c.key == key)).first() is not None


def done_result(store: Store, key: str) -> Any:
    """The result recorded with a finished unit of work (None when not done or none kept)."""
    d = JobDedupRow.__table__
    with store.engine.connect() as conn:
        raw = conn.scalar(select(d.c.result).where(d.c.key == key))
    return orjson.loads(raw) if raw else None


def mark_done(conn: Connection, key: str, job_id: str | None, result: Any = None) -> None:
    """Record, in the caller's transaction, that the unit of work ``key`` is done."""
    d = JobDedupRow.__table__
    conn.execute(d.insert().values(key=key, job_id=job_id, done_at=now(), result=_dumps(result)))


def done_keys(store: Store, prefix: str) -> list[str]:
    d = JobDedupRow.__table__
    with store.engine.connect() as conn:
        return list(conn.scalars(select(d.c.key).where(d.c.key.startswith(prefix)).order_by(d.c.key)))
