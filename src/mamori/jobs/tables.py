"""Store tables of background jobs (SQLAlchemy 2, on the store's shared ``Base``).

The Alembic migration ``jobs`` (store/migrations/versions/0012_jobs.py) creates them.

- ``job``: one row per submitted job (an uploaded SBOM's processing, a feed sync, a re-match or one of
  its shards): its id (the Celery task id when a broker runs it), kind, state (``queued`` →
  ``running`` → ``done`` | ``failed``; ``retrying`` between attempts, ``dead`` when it went to the
  dead-letter queue), attempts, when it was submitted, started and finished, the error's class name and a
  small JSON result. The store is the result backend: a job's state survives the broker and every worker.
- ``job_dedup``: one row per unit of work that finished, by its dedup key (``upload:<token>``,
  ``rematch:<run>:<shard>`` …), written in the same transaction as the work's results: a redelivered
  message whose work is already committed does nothing again.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.store.schema import Base


class JobRow(Base):
    __tablename__ = "job"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[str | None] = mapped_column(String(32))
    finished_at: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)  # JSON, small


class JobDedupRow(Base):
    __tablename__ = "job_dedup"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    job_id: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[str] = mapped_column(String(32))
    result: Mapped[str | None] = mapped_column(Text)  # JSON, small
